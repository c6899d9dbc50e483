/**
 * The process table as `ps` would show it, read from /proc (Linux): a
 * process's descendants, their resident memory, and every process carrying a
 * marker string. The load and kill runs (test/hostile/load/) judge the farm
 * from outside with these, so they keep working however the farm arranges its
 * own processes (in-process builds today, child processes tomorrow).
 */
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  state: string;
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function entry(pid: number): ProcessEntry | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0]!, ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Live processes (zombies excluded), one snapshot of the table. */
export function liveProcesses(): ProcessEntry[] {
  return pids()
    .map(entry)
    .filter((p): p is ProcessEntry => p !== undefined && p.state !== 'Z');
}

/** `root` (when alive) and every live process below it. */
export function processTree(root: number): number[] {
  const table = liveProcesses();
  const children = new Map<number, number[]>();
  for (const p of table) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const found = table.some((p) => p.pid === root) ? [root] : [];
  for (let i = 0; i < found.length; i += 1) found.push(...(children.get(found[i]!) ?? []));
  return found;
}

/** VmRSS of one process, bytes (0 when it is gone or a kernel thread). */
export function rssBytes(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Resident memory of a whole tree (the farm and its children), bytes: VmRSS summed, so shared pages count once per process. */
export function treeRssBytes(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + rssBytes(pid), 0);
}

/**
 * Proportional set size of one process (`Pss` of /proc/PID/smaps_rollup), bytes: a page shared
 * with other processes counts as its share. 0 when the process is gone.
 */
export function pssBytes(pid: number): number {
  try {
    const match = /^Pss:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The memory a whole tree holds, bytes, each physical page counted once: the summed PSS. Summed
 * VmRSS (treeRssBytes) counts the Node executable's pages once per Node process (about 45 MiB
 * each: the farm and each build's process), and a process that forks counts twice for the moment
 * between fork and exec (its child shares every page copy-on-write): the stage agent starts `du`
 * every second, and summed VmRSS caught those moments as 100+ MiB peaks that no memory backed.
 */
export function treePssBytes(root: number): number {
  return processTree(root).reduce((sum, pid) => sum + pssBytes(pid), 0);
}

/**
 * Live processes, other than this one, whose command line or environment
 * contains `marker` (a stage command's argument, a variable the farm sets, a
 * data directory path). Environments of other users' processes are unreadable
 * and skipped.
 */
export function processesCarrying(marker: string): number[] {
  const found: number[] = [];
  for (const p of liveProcesses()) {
    if (p.pid === process.pid) continue;
    for (const file of ['cmdline', 'environ']) {
      try {
        if (readFileSync(`/proc/${p.pid}/${file}`).includes(marker)) {
          found.push(p.pid);
          break;
        }
      } catch {
        // Gone, or not ours to read.
      }
    }
  }
  return found;
}

export function isAlive(pid: number): boolean {
  const p = entry(pid);
  return p !== undefined && p.state !== 'Z';
}

/** SIGKILLs each pid that is still there (cleanup after a run; never a broad pattern). */
export function killAll(pidsToKill: number[]): void {
  for (const pid of pidsToKill) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}
