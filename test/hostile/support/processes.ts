/**
 * Process checks for the hostile workspace tests, read from /proc: which
 * processes of a group, or carrying a marker argument, are still alive. A
 * zombie (exited, waiting for a parent that may never reap it) counts as dead.
 */
import { readdirSync, readFileSync } from 'node:fs';

interface Seen {
  pid: number;
  pgrp: number;
  state: string;
  argv: string[];
}

function processTable(): Seen[] {
  const table: Seen[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter((arg) => arg !== '');
      table.push({ pid: Number(name), state: fields[0]!, pgrp: Number(fields[2]), argv });
    } catch {
      // Gone while we looked.
    }
  }
  return table;
}

/** Live processes in process group `pgrp`. */
export function liveInGroup(pgrp: number): number[] {
  return processTable()
    .filter((p) => p.pgrp === pgrp && p.state !== 'Z')
    .map((p) => p.pid);
}

/** Live `sleep <marker>` processes, wherever they are (in the group or escaped from it). */
export function liveSleeps(marker: string): number[] {
  return processTable()
    .filter((p) => p.state !== 'Z' && p.argv.length === 2 && p.argv[0]!.endsWith('sleep') && p.argv[1] === marker)
    .map((p) => p.pid);
}

/** Safety net after each test: whatever a failed test left behind must not outlive it. */
export function killSleeps(marker: string): void {
  for (const pid of liveSleeps(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

export function isAlive(pid: number): boolean {
  return processTable().some((p) => p.pid === pid && p.state !== 'Z');
}
