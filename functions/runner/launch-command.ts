/**
 * Starts one stage command: `sh -c` on the host (Lambda, Fargate, a local
 * farm without bubblewrap: then in a cgroup of its own where one can be made),
 * or inside the bubblewrap sandbox (functions/runner/sandbox.ts) on the local
 * farm. With slirp4netns, the sandbox waits at bwrap's --block-fd until the
 * network is configured: bwrap reports the sandbox's pid on --info-fd,
 * slirp4netns attaches to that pid's network namespace and reports ready on
 * its --ready-fd, and only then does the command start, so its first request
 * finds the network up. slirp4netns exits when its --exit-fd closes (this
 * process ending included).
 *
 * bwrap also reports the command's own exit on --json-status-fd (sandbox-status.ts), so
 * a sandbox that failed to start is not taken for a command that exited 1.
 *
 * https://github.com/containers/bubblewrap/blob/main/bwrap.xml (--info-fd, --block-fd, --json-status-fd)
 * https://github.com/rootless-containers/slirp4netns/blob/master/slirp4netns.1.md (--ready-fd, --exit-fd, --disable-host-loopback)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { CommandCgroup } from './stage-containment.js';
import { readSandboxStatus, type SandboxStatus } from './sandbox-status.js';
import { bubblewrapArgs, sandboxPath, slirpArgs, slirpResolvConf, type StageDirectories, type StageSandbox } from './sandbox.js';

/** How long slirp4netns may take to attach before the command starts without network. */
const NETWORK_READY_MS = 5_000;
const INFO_FD = 3;
const BLOCK_FD = 4;
const STATUS_FD = 5;

export interface LaunchOptions {
  cwd: string;
  env: Record<string, string>;
  /** The local farm's sandbox; absent on AWS. */
  sandbox?: { settings: StageSandbox; directories: StageDirectories };
  /** The stage marker: names the command's cgroup when there is no sandbox. */
  marker: string;
  /** Where to say that the network could not be set up. */
  warn: (text: string) => void;
}

export interface LaunchedCommand {
  child: ChildProcess;
  /** Ends what the launch started besides the command (slirp4netns, the cgroup); resolves with the leftovers it killed. */
  release(): Promise<number>;
  /**
   * Settles once the command may run (the sandbox's network is attached). The caller reads the
   * child's output and watches its exit from the start, not after this: bwrap that fails to set
   * the sandbox up exits meanwhile, and Node discards the output of a child that exited unread.
   */
  ready: Promise<void>;
  /**
   * `release` only ends helpers (slirp4netns) and kills no process of the command: in the sandbox,
   * its PID namespace ended every one of them with the command. The marker sweep may run beside it.
   */
  releaseEndsOnlyHelpers?: true;
  /** In the sandbox: whether the command ran, and its own exit code; settles when bwrap exits. */
  sandboxStatus?: Promise<SandboxStatus>;
}

export async function launchCommand(command: string, options: LaunchOptions): Promise<LaunchedCommand> {
  const settings = options.sandbox?.settings;
  if (settings?.kind === 'bubblewrap') return launchSandboxed(command, options, settings);
  // No sandbox: a cgroup of its own catches what escapes the process group (only on the local farm).
  const cgroup = options.sandbox !== undefined ? await CommandCgroup.open(options.marker) : undefined;
  const child = spawn('sh', cgroup ? cgroup.wrap(command) : ['-c', command], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, release: async () => (cgroup ? cgroup.release() : 0), ready: Promise.resolve() };
}

async function launchSandboxed(
  command: string,
  options: LaunchOptions,
  settings: Extract<StageSandbox, { kind: 'bubblewrap' }>,
): Promise<LaunchedCommand> {
  const directories = options.sandbox!.directories;
  const slirp = settings.network.kind === 'slirp4netns' ? settings.network.executable : undefined;
  let resolvConf: string | undefined;
  if (slirp !== undefined) {
    // Beside the stage's directories, outside anything the stage can write.
    resolvConf = join(dirname(directories.tmp), 'sandbox-resolv.conf');
    await writeFile(resolvConf, slirpResolvConf());
  }
  const args = bubblewrapArgs(settings, {
    command,
    cwd: options.cwd,
    directories,
    resolvConf,
    statusFd: STATUS_FD,
    ...(slirp !== undefined ? { infoFd: INFO_FD, blockFd: BLOCK_FD } : {}),
  });
  const visible = [directories.workspace, directories.home, directories.tmp];
  const env = { ...options.env, PATH: sandboxPath(settings, options.env.PATH, visible) };
  const child = spawn(settings.bwrap, args, {
    env,
    detached: true,
    stdio: slirp !== undefined ? ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'pipe'] : ['ignore', 'pipe', 'pipe', 'ignore', 'ignore', 'pipe'],
  });
  const sandboxStatus = readSandboxStatus((child.stdio as unknown as Readable[])[STATUS_FD]!);
  if (slirp === undefined) return { child, release: async () => 0, releaseEndsOnlyHelpers: true, sandboxStatus, ready: Promise.resolve() };

  const info = child.stdio[INFO_FD] as Readable;
  const block = child.stdio[BLOCK_FD] as Writable;
  info.on('error', () => undefined);
  block.on('error', () => undefined);
  let network: ChildProcess | undefined;
  const attachNetwork = async () => {
    try {
      const pid = await sandboxPid(info);
      network = spawn(slirp, slirpArgs(pid, 3, 4), { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
      network.on('error', () => undefined);
      await networkReady(network);
    } catch (error) {
      options.warn(`== WARNING: the stage's network could not be set up (${(error as Error).message}); the command runs without network\n`);
    }
    // Any byte lets bwrap go on to run the command.
    block.end('1');
  };
  return {
    child,
    sandboxStatus,
    releaseEndsOnlyHelpers: true,
    ready: attachNetwork(),
    async release() {
      if (network !== undefined && network.exitCode === null && network.signalCode === null) {
        const exited = new Promise((resolve) => network!.once('exit', resolve));
        (network.stdio[4] as Writable | null)?.destroy();
        network.kill('SIGKILL');
        await exited;
      }
      return 0;
    },
  };
}

/** bwrap's --info-fd JSON: `{ "child-pid": N, ... }`, the sandbox's init as the host sees it. */
function sandboxPid(info: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error('bwrap did not report the sandbox pid')), NETWORK_READY_MS);
    info.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      try {
        const pid = (JSON.parse(text) as { 'child-pid'?: unknown })['child-pid'];
        if (typeof pid === 'number') {
          clearTimeout(timer);
          resolve(pid);
        }
      } catch {
        // Not all of it yet.
      }
    });
    info.on('end', () => {
      clearTimeout(timer);
      reject(new Error('bwrap exited before reporting the sandbox pid'));
    });
  });
}

/** Resolves when slirp4netns writes to its --ready-fd; rejects with its stderr when it exits first. */
function networkReady(network: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    network.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => reject(new Error('slirp4netns was not ready in time')), NETWORK_READY_MS);
    (network.stdio[3] as Readable).once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    network.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`slirp4netns exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`));
    });
  });
}
