/**
 * Lambda has no PID namespace to give a stage: its commands run as the same Linux user as
 * the runtime, and a warm sandbox keeps whatever they left running (a `setsid` daemon, a
 * double fork) for the next invocation, which belongs to another build. Such a process
 * could read the next build's environment and secrets, or poll the runtime API's
 * `/invocation/next` and receive the next build's event. So at the start and the end of
 * every invocation the runner kills every process of its own uid except itself and its
 * ancestors (the runtime), and checks that none is left.
 *
 * Rounds: stop everything first (SIGSTOP, so a forking process cannot replace itself while
 * we look), then SIGKILL, then read /proc again; a fork bomb needs a few rounds. A zombie
 * (state Z) runs nothing and is not counted. A killed process still in state D
 * (uninterruptible: inside the kernel, e.g. releasing its memory on a loaded host) cannot
 * run user code again and dies when it leaves the kernel, so it gets a grace period
 * (`uninterruptibleGraceMs`) before it counts. A process that survives every round makes
 * the invocation fail loudly (`StrayProcessesSurvived`).
 *
 * Lambda extensions run as the same user and would be killed too: runner layers must not
 * contain extensions (docs/deploy.md).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface StrayScanOptions {
  /** Default /proc (tests point it at a fixture). */
  procRoot?: string;
  /** The uid whose processes are swept; default this process's. */
  uid?: number;
  /** Spared with its ancestors; default this process. */
  selfPid?: number;
  /** Default process.kill. */
  kill?: (pid: number, signal: NodeJS.Signals) => void;
  /** Rounds of stop-kill-rescan before giving up. */
  maxRounds?: number;
  /** Pause between rounds, ms (the kernel needs a moment to tear a killed process down). */
  settleMs?: number;
  /** How long a killed process in state D may take to leave the kernel; default 5 s. */
  uninterruptibleGraceMs?: number;
}

export interface StraySweep {
  /** Every pid signalled, over all rounds. */
  killed: number[];
  /** Processes still alive (not zombies) after the last round. */
  survivors: ProcessFacts[];
}

export interface ProcessFacts {
  pid: number;
  ppid: number;
  uid: number;
  state: string;
  command: string;
}

export class StrayProcessesSurvived extends Error {
  override readonly name = 'StrayProcessesSurvived';
}

/** A /proc row: `uids` are the real, effective, saved and filesystem uids of `Uid:`. */
export interface ProcessRow extends ProcessFacts {
  uids: number[];
}

function parseStatus(pid: number, text: string): ProcessRow | undefined {
  const field = (name: string) => text.match(new RegExp(`^${name}:\\s*(.*)$`, 'm'))?.[1]?.trim();
  const uids = field('Uid')?.split(/\s+/).map(Number);
  const ppid = Number(field('PPid'));
  if (!uids || uids.length === 0 || uids.some(Number.isNaN) || Number.isNaN(ppid)) return undefined;
  return { pid, ppid, uid: uids[0]!, uids, state: field('State')?.[0] ?? '?', command: field('Name') ?? '' };
}

export async function readProcesses(procRoot = '/proc'): Promise<ProcessRow[]> {
  const names = await readdir(procRoot).catch(() => [] as string[]);
  const rows = await Promise.all(
    names
      .filter((name) => /^\d+$/.test(name))
      .map(async (name) => {
        // A process that ended between readdir and here has no status: it is not a stray.
        const text = await readFile(join(procRoot, name, 'status'), 'utf8').catch(() => undefined);
        return text === undefined ? undefined : parseStatus(Number(name), text);
      }),
  );
  return rows.filter((row): row is ProcessRow => row !== undefined);
}

/** The pids from `self` up to the root (following PPid), `self` included. */
export function ancestry(self: number, processes: readonly ProcessFacts[]): Set<number> {
  const parentOf = new Map(processes.map((p) => [p.pid, p.ppid]));
  const chain = new Set<number>();
  for (let pid: number | undefined = self; pid !== undefined && pid > 0 && !chain.has(pid); pid = parentOf.get(pid)) chain.add(pid);
  return chain;
}

/** Processes with `uid` in any uid field (a setuid trick does not hide one), alive, outside `spared`. */
export function strays(processes: readonly ProcessRow[], uid: number, spared: Set<number>): ProcessRow[] {
  return processes.filter((p) => p.uids.includes(uid) && !spared.has(p.pid) && p.state !== 'Z' && p.state !== 'X');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function killStrayProcesses(options: StrayScanOptions = {}): Promise<StraySweep> {
  const procRoot = options.procRoot ?? '/proc';
  const uid = options.uid ?? process.getuid?.() ?? -1;
  const self = options.selfPid ?? process.pid;
  const kill = options.kill ?? ((pid: number, signal: NodeJS.Signals) => process.kill(pid, signal));
  const maxRounds = options.maxRounds ?? 20;
  const settleMs = options.settleMs ?? 50;
  const killed = new Set<number>();
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      kill(pid, name);
    } catch {
      // Gone already (ESRCH), or not ours to signal (EPERM): the rescan decides.
    }
  };

  let left: ProcessFacts[] = [];
  for (let round = 0; round < maxRounds; round++) {
    const processes = await readProcesses(procRoot);
    // Ancestors are read each round: they cannot change, but a pid of ours might be reused.
    const spared = ancestry(self, processes);
    left = strays(processes, uid, spared);
    if (left.length === 0) break;
    for (const p of left) signal(p.pid, 'SIGSTOP');
    for (const p of left) {
      signal(p.pid, 'SIGKILL');
      killed.add(p.pid);
    }
    await sleep(settleMs);
  }
  const graceEnds = Date.now() + (options.uninterruptibleGraceMs ?? 5_000);
  while (left.length > 0) {
    // The last round signalled them: look again before calling them survivors.
    const processes = await readProcesses(procRoot);
    left = strays(processes, uid, ancestry(self, processes));
    const onlyInKernel = left.length > 0 && left.every((p) => p.state === 'D');
    if (!onlyInKernel || Date.now() >= graceEnds) break;
    for (const p of left) signal(p.pid, 'SIGKILL');
    await sleep(Math.max(settleMs, 10));
  }
  return { killed: [...killed], survivors: left.map(({ pid, ppid, uid: u, state, command }) => ({ pid, ppid, uid: u, state, command })) };
}

/** Sweeps, and throws when something of ours is still running (the invocation must not go on). */
export async function sweepStrayProcesses(when: 'start' | 'end', options: StrayScanOptions = {}): Promise<StraySweep> {
  const sweep = await killStrayProcesses(options);
  if (sweep.survivors.length > 0) {
    const list = sweep.survivors.map((p) => `${p.pid} (${p.command}, state ${p.state})`).join(', ');
    throw new StrayProcessesSurvived(`at the ${when} of the invocation, processes of this sandbox's user survived SIGKILL: ${list}`);
  }
  return sweep;
}
