/**
 * A command's process tree, read from /proc: the processes in its process
 * group (it is started detached, so it leads a new group) plus any
 * descendant that moved to a group of its own.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { kernelUnits } from './kernel-units.js';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  pgrp: number;
  rssPages: number;
  /** Clock ticks after boot the process started: with the pid, it names one process even after pid reuse. */
  startTime: number;
  /**
   * CPU clock ticks: its own user + system time (all its threads) plus the cumulative time of the
   * children it has waited for (utime + stime + cutime + cstime, proc(5) fields 14 to 17).
   */
  cpuTicks: number;
}

/** The kernel's clock ticks per second (CPU times in /proc/<pid>/stat are in these; 100 on Linux). */
export function clockTicksPerSecond(): number {
  return kernelUnits().ticksPerSecond;
}

/**
 * Every process's /proc/<pid>/stat, each read SYNCHRONOUSLY. A stat file is made by the kernel from
 * counters it keeps: do_task_stat (fs/proc/array.c) reads the mm's counters without its mmap_lock, the
 * one lock a process can hold for long (/proc/<pid>/environ and cmdline take it, and stage-containment.ts
 * reads those asynchronously for that reason), so a read never waits on the process it describes.
 * Read one by one, a table of 70 processes costs about 0.9 ms of CPU here; through fs/promises (open,
 * fstat, read and close each a trip through the thread pool) it cost 9 ms of wall time and 14 ms of
 * CPU, and the memory sampler reads it every MEMORY_SAMPLE_MS for every running command (issue 12,
 * docs/performance.md). The host's process count is a stage's to raise (thousands of sleepers): the
 * event loop gets a turn every READS_PER_TURN files, so a long table delays timers and I/O by a few
 * milliseconds at a time, never for the whole read.
 */
async function readProcessTable(): Promise<ProcessEntry[]> {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const entries: ProcessEntry[] = [];
  let reads = 0;
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    if (++reads % READS_PER_TURN === 0) await nextTurn();
    const entry = readProcess(Number(name));
    if (entry !== undefined) entries.push(entry);
  }
  return entries;
}

/** Stat files read between two turns of the event loop (about 3 ms here). */
const READS_PER_TURN = 256;

/** One process's stat (see readProcessTable for why synchronously), or undefined once it is gone. */
function readProcess(pid: number): ProcessEntry | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: parse after the last ')'.
  // Fields from there on: state(3) ppid(4) pgrp(5) ... utime(14) stime(15) cutime(16) cstime(17) ... starttime(22) vsize(23) rss(24).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    startTime: Number(fields[19]),
    rssPages: Number(fields[21]),
    cpuTicks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
  };
}

/**
 * Signals processes seen earlier (for instance orphans reparented away from
 * the tree when their parent died), but only those still the same process:
 * a pid reused since by an unrelated process is left alone.
 */
export async function signalSeen(seen: ProcessEntry[], signal: NodeJS.Signals): Promise<void> {
  for (const entry of seen) {
    const now = readProcess(entry.pid);
    if (now !== undefined && now.startTime === entry.startTime) trySignal(entry.pid, signal);
  }
}

/** The processes of the tree rooted at `leader` (which leads its own process group). */
export async function treeMembers(leader: number): Promise<ProcessEntry[]> {
  const table = await readProcessTable();
  const members = new Map<number, ProcessEntry>();
  for (const entry of table) if (entry.pgrp === leader) members.set(entry.pid, entry);
  // Descendants that left the group (setsid, setpgid) are still ours.
  let grew = true;
  while (grew) {
    grew = false;
    for (const entry of table) {
      if (!members.has(entry.pid) && members.has(entry.ppid)) {
        members.set(entry.pid, entry);
        grew = true;
      }
    }
  }
  return [...members.values()];
}

/** Summed resident memory of processes, bytes. */
export function rssBytes(members: ProcessEntry[]): number {
  return members.reduce((sum, entry) => sum + entry.rssPages, 0) * kernelUnits().pageBytes;
}

/** Rounds of stopping descendants outside the group before giving up on a tree still growing. */
const FREEZE_ROUNDS = 10;

/**
 * Signals the whole group, then any descendant outside it. The tree is frozen
 * (SIGSTOP) first: a tree still forking would grow between reading it and
 * signalling it, and a child that left the group (setsid) whose parent died
 * in between would be orphaned out of reach, as a fork bomb's children are.
 */
export async function signalTree(leader: number, signal: NodeJS.Signals): Promise<void> {
  trySignal(-leader, 'SIGSTOP');
  let members = await treeMembers(leader);
  for (let round = 0; round < FREEZE_ROUNDS; round += 1) {
    for (const member of members) if (member.pgrp !== leader) trySignal(member.pid, 'SIGSTOP');
    const known = new Set(members.map((member) => member.pid));
    const again = await treeMembers(leader);
    const grew = again.some((member) => !known.has(member.pid));
    members = again;
    if (!grew) break;
  }
  trySignal(-leader, signal);
  for (const member of members) if (member.pgrp !== leader) trySignal(member.pid, signal);
  if (signal !== 'SIGKILL') {
    // A stopped process acts on SIGTERM only once it runs again.
    trySignal(-leader, 'SIGCONT');
    for (const member of members) if (member.pgrp !== leader) trySignal(member.pid, 'SIGCONT');
  }
}

function trySignal(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone (ESRCH) is what we want.
  }
}
