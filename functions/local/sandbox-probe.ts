/**
 * Finds out, once per farm start, whether stage commands can run in a
 * bubblewrap sandbox on this machine (functions/runner/sandbox.ts): bwrap on
 * the PATH and able to make the namespaces (a kernel without unprivileged
 * user namespaces, or a container that forbids them, refuses), and
 * slirp4netns for the stage's outbound network. What it finds is said out
 * loud by `buildfarm serve` and `buildfarm run` (`describeSandbox`).
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { ETC_ENTRIES, SYSTEM_PATHS, type BubblewrapSandbox, type StageSandbox, type SystemPath } from '../runner/sandbox.js';
// The farm's own checkout (or installed package): never visible to a stage.
import { FARM_ROOT } from './farm-files.js';
import { stageNodeBinary } from './stage-environment.js';


/** Values of BUILDFARM_SANDBOX that turn the sandbox off (for machines where bwrap misbehaves, and the fallback's tests). */
const OFF = new Set(['off', 'none', '0', 'false', 'no']);

export interface ProbeOptions {
  dataDirectory: string;
  /** BUILDFARM_SANDBOX: `off` runs stages unsandboxed (said loudly). */
  setting?: string;
  /** Where to look for bwrap and slirp4netns (default process.env.PATH). */
  searchPath?: string;
}

export function probeStageSandbox(options: ProbeOptions): StageSandbox {
  const candidate = sandboxCandidate(options);
  if (candidate.kind === 'none') return candidate;
  const trial = spawnSync(candidate.bwrap, trialArgs(candidate), { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS });
  return judgeTrial(candidate, trial.status, trial.stderr || trial.error?.message);
}

/**
 * The same probe with the trial run as a child process the caller need not wait on: `buildfarm
 * run` starts it first and does its other start-up work (git, the embedded S3) meanwhile (issue 12:
 * the blocking trial was one of the larger parts of the fixed overhead).
 */
export async function probeStageSandboxAsync(options: ProbeOptions): Promise<StageSandbox> {
  const candidate = sandboxCandidate(options);
  if (candidate.kind === 'none') return candidate;
  const trial = await new Promise<{ status: number | null; why?: string }>((resolve) => {
    execFile(candidate.bwrap, trialArgs(candidate), { encoding: 'utf8', timeout: TRIAL_TIMEOUT_MS }, (error, _stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code;
      resolve(error === null ? { status: 0 } : { status: typeof code === 'number' ? code : null, why: stderr || error.message });
    });
  });
  return judgeTrial(candidate, trial.status, trial.why);
}

const TRIAL_TIMEOUT_MS = 10_000;

/** Everything but the trial: bwrap and slirp4netns found, what stays hidden and what is shown. */
function sandboxCandidate(options: ProbeOptions): StageSandbox {
  if (options.setting !== undefined && OFF.has(options.setting.trim().toLowerCase())) {
    return { kind: 'none', reason: `BUILDFARM_SANDBOX=${options.setting} turned the sandbox off` };
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  const bwrap = findExecutable('bwrap', searchPath);
  if (bwrap === undefined) return { kind: 'none', reason: 'bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)' };
  const slirp = findExecutable('slirp4netns', searchPath);
  // Each path as given and as the kernel resolves it: a data directory reached through a link into
  // a folder the sandbox shows (say under /usr/local) must be covered where its files really are.
  const hidden = [...new Set([resolve(options.dataDirectory), FARM_ROOT, homedir()].flatMap(withRealPath))];
  return {
    kind: 'bubblewrap',
    bwrap,
    network: slirp
      ? { kind: 'slirp4netns', executable: slirp }
      : { kind: 'none', reason: 'slirp4netns is not installed (apt-get install slirp4netns), so stages have no network' },
    system: systemPaths(),
    etc: ETC_ENTRIES,
    // The Node 22 a stage's PATH starts with (stage-environment.ts), shown read-only.
    ...toolchainFor(stageNodeBinary(), hidden),
    hidden,
  };
}

/** The path, and its real path when that differs (links resolved by the kernel); a missing path is itself alone. */
function withRealPath(path: string): string[] {
  try {
    return [path, realpathSync.native(path)];
  } catch {
    return [path];
  }
}

/** A trial run with the same namespaces: bwrap present but refused (no user namespaces) is no sandbox. */
function trialArgs(sandbox: BubblewrapSandbox): string[] {
  return ['--die-with-parent', '--unshare-pid', '--unshare-net', '--unshare-ipc', '--unshare-uts', '--cap-drop', 'ALL', '--proc', '/proc', '--dev', '/dev', ...systemArgs(sandbox.system), '--', 'true'];
}

function judgeTrial(sandbox: BubblewrapSandbox, status: number | null, why: string | undefined): StageSandbox {
  if (status === 0) return sandbox;
  const reason = (why || `exit ${status}`).trim().split('\n')[0];
  return { kind: 'none', reason: `bubblewrap cannot make namespaces here (${reason})` };
}

/** True when the sandbox line is a warning (no sandbox, or no network): it then goes to stderr. */
export function sandboxIsDegraded(sandbox: StageSandbox): boolean {
  return sandbox.kind === 'none' || sandbox.network.kind === 'none';
}

/** One line for the farm's output: loud when stages are not sandboxed or have no network. */
export function describeSandbox(sandbox: StageSandbox): string {
  if (sandbox.kind === 'none') {
    return (
      `WARNING: stage commands run WITHOUT a sandbox: ${sandbox.reason}. They can read this farm's environment, ` +
      `its data directory and secrets file, your home directory and other stages' processes. Leftover processes are ` +
      `still killed (cgroup, or a marker in their environment). Do not build untrusted code (forks) this way.\n`
    );
  }
  const network =
    sandbox.network.kind === 'slirp4netns'
      ? 'outbound network through slirp4netns, no host loopback'
      : `WARNING: NO NETWORK for stages (${sandbox.network.reason})`;
  return `sandbox: stage commands run in bubblewrap (own PID, mount and network namespaces; only the workspace writable); ${network}\n`;
}

/**
 * The node the farm runs, for the stage's PATH: its install prefix (bin/node with lib/node_modules/npm, as
 * nvm and the official tarballs lay it out) when that holds nothing hidden, else its bin directory alone
 * (a node at ~/bin/node must not show the whole home).
 */
export function toolchainFor(node: string, hidden: string[]): { toolchain: string[]; toolchainPath: string[] } {
  const bin = dirname(node);
  const prefix = dirname(bin);
  const holdsHidden = prefix === '/' || hidden.some((path) => path === prefix || path.startsWith(`${prefix}/`));
  return { toolchain: [holdsHidden ? bin : prefix], toolchainPath: [bin] };
}

function systemPaths(): SystemPath[] {
  const found: SystemPath[] = [];
  for (const path of SYSTEM_PATHS) {
    try {
      const info = lstatSync(path);
      if (info.isSymbolicLink()) found.push({ path, symlink: readlinkSync(path) });
      else if (info.isDirectory()) found.push({ path });
    } catch {
      // Not on this host (/lib32 on most).
    }
  }
  return found;
}

function systemArgs(system: SystemPath[]): string[] {
  return system.flatMap((entry) => (entry.symlink !== undefined ? ['--symlink', entry.symlink, entry.path] : ['--ro-bind', entry.path, entry.path]));
}

function findExecutable(name: string, searchPath: string): string | undefined {
  for (const directory of searchPath.split(delimiter)) {
    if (directory === '') continue;
    const candidate = join(directory, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
