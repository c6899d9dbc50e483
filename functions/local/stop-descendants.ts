/**
 * The last line of "no orphaned processes" on Ctrl-C: every process this one
 * started, directly or through others, is asked to stop (SIGTERM), then
 * killed (SIGKILL) after a grace period. Stage commands run in process groups
 * and sessions of their own (so a terminal's Ctrl-C does not reach them), and
 * stopping the state machine does not wait for them: without this they would
 * run on until their own deadline.
 *
 * Reads the process table from /proc (Linux); elsewhere there is nothing to
 * read and nothing is signalled.
 */
import { readdir, readFile } from 'node:fs/promises';

/** How long stages get to exit after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 3000;
const POLL_MS = 100;

export interface ProcessIdentity {
  pid: number;
  ppid: number;
  /** Start time in clock ticks after boot: with the pid, names one process even after pid reuse. */
  startTime: number;
}

export interface StopOptions {
  root?: number;
  graceMs?: number;
  /** Processes to leave alone: the farm's own helpers, found before any build started (tsx's esbuild service). */
  except?: ProcessIdentity[];
}

/** Stops every descendant of `root` (default: this process) but `except`; resolves with how many there were. */
export async function stopDescendants(options: StopOptions = {}): Promise<number> {
  const root = options.root ?? process.pid;
  const graceMs = options.graceMs ?? STOP_GRACE_MS;
  const spared = new Set((options.except ?? []).map(identity));
  const descendants = (await findDescendants(root)).filter((entry) => !spared.has(identity(entry)));
  if (descendants.length === 0) return 0;
  for (const entry of descendants) signal(entry.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  let alive = descendants;
  while (Date.now() < deadline) {
    alive = await stillAlive(alive);
    if (alive.length === 0) return descendants.length;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  // Children may have started grandchildren meanwhile: kill what is there now too.
  const late = (await findDescendants(root)).filter((entry) => !spared.has(identity(entry)));
  for (const entry of [...(await stillAlive(alive)), ...late]) signal(entry.pid, 'SIGKILL');
  return descendants.length;
}

export async function findDescendants(root: number): Promise<ProcessIdentity[]> {
  const table = await readProcessTable();
  const found = new Map<number, ProcessIdentity>();
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of table) {
      if (found.has(entry.pid) || entry.pid === root) continue;
      if (entry.ppid === root || found.has(entry.ppid)) {
        found.set(entry.pid, entry);
        grew = true;
      }
    }
  }
  return [...found.values()];
}

function identity(entry: ProcessIdentity): string {
  return `${entry.pid}@${entry.startTime}`;
}

async function stillAlive(entries: ProcessIdentity[]): Promise<ProcessIdentity[]> {
  const alive: ProcessIdentity[] = [];
  for (const entry of entries) {
    const now = await readProcess(entry.pid);
    if (now !== undefined && now.startTime === entry.startTime && !now.zombie) alive.push(entry);
  }
  return alive;
}

async function readProcessTable(): Promise<ProcessIdentity[]> {
  const names = await readdir('/proc').catch(() => [] as string[]);
  const entries = await Promise.all(names.filter((name) => /^\d+$/.test(name)).map((name) => readProcess(Number(name))));
  return entries.filter((entry): entry is ProcessIdentity & { zombie: boolean } => entry !== undefined && !entry.zombie);
}

async function readProcess(pid: number): Promise<(ProcessIdentity & { zombie: boolean }) | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (stat === undefined) return undefined;
  // The command name (field 2) may hold spaces and parentheses: read the fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(fields[1]), startTime: Number(fields[19]), zombie: fields[0] === 'Z' };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}
