/**
 * Runs one stage command with `sh -c` in a process group of its own (on the
 * local farm: inside the bubblewrap sandbox, see launch-command.ts), so the
 * deadline (or a memory/disk limit) can stop the whole tree: SIGTERM to the
 * group, then SIGKILL after a short grace. While it runs, the tree's memory
 * (summed RSS from /proc), its CPU time (tree-cpu-meter.ts) and the work
 * directory's disk use are sampled.
 * When the command ends, whatever it left running is killed: its tree, its
 * cgroup or sandbox, and every process still carrying the stage's marker.
 */
import type { ChildProcess } from 'node:child_process';
import { launchCommand, type LaunchedCommand } from './launch-command.js';
import { PipeGrace } from './pipe-grace.js';
import { diskUsageBytes } from './disk-usage.js';
import { addCpuUsage, cpuUsage, type CpuUsage } from '../domain/sizing/cpu-usage.js';
import { clockTicksPerSecond, rssBytes, signalSeen, signalTree, treeMembers, type ProcessEntry } from './process-tree.js';
import { TreeCpuMeter } from './tree-cpu-meter.js';
import type { StageDirectories, StageSandbox } from './sandbox.js';
import { killMarked } from './stage-containment.js';
import type { PhaseClock } from './phase-clock.js';
import type { StageLog } from './stage-log.js';

/** Time a stopped tree gets between SIGTERM and SIGKILL. */
export const KILL_GRACE_MS = 2_000;
/** How often the tree's memory and CPU time are sampled. */
export const MEMORY_SAMPLE_MS = 200;
/** How often disk use is sampled (`du` walks the tree, so less often). */
export const DISK_SAMPLE_MS = 1_000;
/** How long to wait for the output pipes after the shell exits before giving up on stray holders (counted while they are read, see pipe-grace.ts). */
const PIPE_DRAIN_MS = 2_000;
/** How long bwrap's status pipe may stay open after bwrap exited (it closes it as it exits). */
const STATUS_WAIT_MS = 2_000;

export type CommandOutcome =
  | { kind: 'exited'; exitCode: number }
  | { kind: 'signalled'; signal: NodeJS.Signals }
  | { kind: 'timed_out' }
  | { kind: 'out_of_memory' }
  | { kind: 'out_of_disk' }
  | { kind: 'cancelled' }
  | { kind: 'spawn_failed'; message: string }
  /** bubblewrap could not set the sandbox up; the command never ran (the farm's failure, not the stage's). */
  | { kind: 'sandbox_failed'; message: string };

export interface CommandOptions {
  cwd: string;
  env: Record<string, string>;
  log: StageLog;
  /** Epoch ms. */
  deadline: number;
  now: () => number;
  /** Directory whose disk use is measured against `diskLimitBytes`. */
  diskRoot: string;
  diskLimitBytes?: number;
  memoryLimitBytes?: number;
  /** The build was stopped (Ctrl-C, a superseded build): the tree is stopped as at the deadline. */
  signal?: AbortSignal;
  /** The stage's marker (in `env` as BUILDFARM_STAGE_MARKER): processes carrying it are killed when the command ends. */
  marker?: string;
  /** The local farm's sandbox and the stage's writable directories; absent on AWS. */
  sandbox?: { settings: StageSandbox; directories: StageDirectories };
  /** Where the sandbox's start-up time goes (`sandboxStartMs`: from spawning bwrap until the command may run). */
  phases?: Pick<PhaseClock, 'time'>;
}

/** Peaks observed across a stage's commands, and their CPU use added up. */
export class ResourcePeaks {
  memoryBytes = 0;
  diskBytes = 0;
  cpu: CpuUsage | undefined;
  noteCpu(usage: CpuUsage): void {
    this.cpu = addCpuUsage(this.cpu, usage);
  }
  noteMemory(bytes: number): void {
    this.memoryBytes = Math.max(this.memoryBytes, bytes);
  }
  noteDisk(bytes: number): void {
    this.diskBytes = Math.max(this.diskBytes, bytes);
  }
}

/**
 * bubblewrap itself can fail to set a sandbox up on a loaded machine (seen: `bwrap: loopback:
 * Failed RTM_NEWADDR: No child processes`) and then exits 1 before the command starts. That is
 * the farm's failure, not the stage's: bwrap's status says the command never ran
 * (sandbox-status.ts), so it is started once more, and the log says so. Twice is an
 * infrastructure error (SandboxFailed), never a CommandFailed the user is blamed for.
 */
export async function runCommand(command: string, options: CommandOptions, peaks: ResourcePeaks): Promise<CommandOutcome> {
  const first = await runOnce(command, options, peaks);
  if (first.kind !== 'sandbox_failed') return first;
  options.log.raw(`== the sandbox failed to start (${first.message}); the command did not run; starting it once more\n`);
  return runOnce(command, options, peaks);
}

async function runOnce(command: string, options: CommandOptions, peaks: ResourcePeaks): Promise<CommandOutcome> {
  const start = async () => {
    const launched = await launchCommand(command, {
      cwd: options.cwd,
      env: options.env,
      sandbox: options.sandbox,
      marker: options.marker ?? '',
      warn: (text) => options.log.raw(text),
    });
    // Watched before the launch is ready (launch-command.ts): bwrap may fail and exit meanwhile.
    const watched = watch(launched, options, peaks);
    await launched.ready;
    return watched;
  };
  try {
    const watched = options.phases && options.sandbox?.settings.kind === 'bubblewrap' ? await options.phases.time('sandboxStartMs', start) : await start();
    return await watched.outcome;
  } catch (error) {
    return { kind: 'spawn_failed', message: (error as Error).message };
  }
}

/** Supervises the launched command; in the sandbox, tells bwrap's own failure from the command's exit. */
function watch(launched: LaunchedCommand, options: CommandOptions, peaks: ResourcePeaks): { outcome: Promise<CommandOutcome> } {
  const { sandboxStatus } = launched;
  if (sandboxStatus === undefined) return { outcome: supervise(launched, options, peaks) };
  // bwrap's own complaint (its first stderr line) names why the sandbox failed, if it did.
  let stderrHead = '';
  launched.child.stderr?.on('data', (chunk: Buffer) => {
    if (stderrHead.length < 512) stderrHead += chunk.toString('utf8', 0, 512);
  });
  const supervised = supervise(launched, options, peaks);
  const outcome = (async (): Promise<CommandOutcome> => {
    const exit = await supervised;
    if (exit.kind !== 'exited') return exit;
    const status = await settled(sandboxStatus, STATUS_WAIT_MS);
    // Not settled: bwrap's status pipe is still open after bwrap exited, which bwrap never does; its exit code stands.
    if (status === undefined) return exit;
    if (!status.commandStarted) {
      return { kind: 'sandbox_failed', message: stderrHead.split('\n')[0]?.trim() || `bwrap exited with ${exit.exitCode} before the command started` };
    }
    return { kind: 'exited', exitCode: status.exitCode ?? exit.exitCode };
  })();
  return { outcome };
}

/** `promise`'s value, or undefined when it takes longer than `ms`. */
async function settled<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function supervise(launched: LaunchedCommand, options: CommandOptions, peaks: ResourcePeaks): Promise<CommandOutcome> {
  return new Promise((resolve) => {
    const { child } = launched;
    const leader = child.pid;
    let stopReason: 'timed_out' | 'out_of_memory' | 'out_of_disk' | 'cancelled' | undefined;
    let exited = false;
    // The tree as last sampled: its orphans are still ours to stop once their parent is gone.
    let known: ProcessEntry[] = [];
    const timers: NodeJS.Timeout[] = [];
    const startedAt = options.now();
    const cpu = new TreeCpuMeter(clockTicksPerSecond());

    const grace = new PipeGrace(PIPE_DRAIN_MS);
    // Both streams go through the log's one masker, in the order their chunks arrive (stage-log.ts).
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', (chunk: Buffer) => {
        if (options.log.write(chunk)) return;
        // The log file (or the live output) is behind: the command waits on its pipe instead of its output
        // piling up in this process's memory.
        stream.pause();
        grace.paused();
        void options.log.drained().then(() => {
          grace.resumed();
          stream.resume();
        });
      });
    }

    const stop = (reason: NonNullable<typeof stopReason>) => {
      if (stopReason !== undefined || leader === undefined) return;
      stopReason = reason;
      void killAll(leader, 'SIGTERM', () => known);
      timers.push(setTimeout(() => void killAll(leader, 'SIGKILL', () => known), KILL_GRACE_MS));
    };

    if (leader !== undefined) {
      timers.push(setTimeout(() => stop('timed_out'), Math.max(0, options.deadline - options.now())));
      const cancel = () => stop('cancelled');
      if (options.signal?.aborted) cancel();
      options.signal?.addEventListener('abort', cancel, { once: true });
      onExit(child, () => options.signal?.removeEventListener('abort', cancel));
      let sampling = false;
      const sampleMemory = async () => {
        if (sampling || exited) return;
        sampling = true;
        try {
          const members = await treeMembers(leader);
          cpu.note(members, options.now());
          if (members.length > 0) known = members;
          const rss = rssBytes(members);
          if (!exited) peaks.noteMemory(rss);
          if (options.memoryLimitBytes !== undefined && rss > options.memoryLimitBytes) stop('out_of_memory');
        } finally {
          sampling = false;
        }
      };
      let measuring = false;
      const sampleDisk = async () => {
        if (measuring || exited) return;
        measuring = true;
        try {
          const used = await diskUsageBytes(options.diskRoot);
          peaks.noteDisk(used);
          if (options.diskLimitBytes !== undefined && used > options.diskLimitBytes) stop('out_of_disk');
        } finally {
          measuring = false;
        }
      };
      void sampleMemory();
      const memoryTimer = setInterval(() => void sampleMemory(), MEMORY_SAMPLE_MS);
      const diskTimer = setInterval(() => void sampleDisk(), DISK_SAMPLE_MS);
      timers.push(memoryTimer, diskTimer);
    }

    let settled = false;
    const finish = (outcome: CommandOutcome) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve(outcome);
    };

    child.on('error', (error) => {
      exited = true;
      finish({ kind: 'spawn_failed', message: error.message });
    });

    let closed = false;
    const onClose: Array<() => void> = [];
    child.on('close', () => {
      closed = true;
      for (const listener of onClose) listener();
    });

    onExit(child, (code, signal) => {
      exited = true;
      if (leader !== undefined) peaks.noteCpu(cpuUsage(cpu.seconds, Math.max(0, options.now() - startedAt) / 1000, cpu.peakVcpu, 'process-tree'));
      const outcome: CommandOutcome =
        stopReason !== undefined
          ? { kind: stopReason }
          : signal !== null
            ? { kind: 'signalled', signal }
            : { kind: 'exited', exitCode: code ?? 1 };
      void (async () => {
        // Background processes the command left behind die with it (and release the output pipes).
        if (leader !== undefined) await killAll(leader, 'SIGKILL', () => known);
        // Then whatever escaped the tree (setsid and a parent that exited): its cgroup, and the marker.
        // A cgroup's release kills what escaped before the sweep counts the rest (no process counted
        // twice). The sandbox's only ends its network helper, and a command that exited took its PID
        // namespace with it, so the sweep goes at the same time. A stopped one (bwrap killed) is
        // swept after, as before: its namespace may still be going, and its dying processes are
        // not daemons that escaped.
        const release = () => launched.release().catch(() => 0);
        const sweep = async () => (options.marker ? killMarked(options.marker) : 0);
        const escaped = launched.releaseEndsOnlyHelpers && stopReason === undefined
          ? (await Promise.all([release(), sweep()])).reduce((sum, killed) => sum + killed, 0)
          : (await release()) + (await sweep());
        if (escaped > 0) {
          options.log.line(`== killed ${escaped} process${escaped === 1 ? '' : 'es'} the command left running outside its process tree (daemonised)`);
        }
        if (closed) return finish(outcome);
        grace.start(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
          finish(outcome);
        }, options.deadline - options.now());
        onClose.push(() => {
          grace.cancel();
          finish(outcome);
        });
      })();
    });
  });
}

/**
 * `listener` once `child` exits, even if it exited already: an 'exit' event emitted before
 * anyone listened (a launch that awaited something after spawning) must not leave the
 * command waited for forever.
 */
function onExit(child: ChildProcess, listener: (code: number | null, signal: NodeJS.Signals | null) => void): void {
  if (child.exitCode !== null || child.signalCode !== null) queueMicrotask(() => listener(child.exitCode, child.signalCode));
  else child.once('exit', listener);
}

async function killAll(leader: number, signal: NodeJS.Signals, seen: () => ProcessEntry[]): Promise<void> {
  await signalTree(leader, signal);
  await signalSeen(seen(), signal);
}
