/**
 * The CPU time of one command's process tree, from the samples run-command.ts takes of it
 * (process-tree.ts reads /proc/<pid>/stat every MEMORY_SAMPLE_MS).
 *
 * Each sample gives, per member, utime + stime + cutime + cstime: its own CPU time and that
 * of the children it has reaped. When a child exits and its parent waits for it, the kernel
 * adds the child's whole time to the parent's cutime/cstime (proc(5), getrusage(2)
 * RUSAGE_CHILDREN), so the tree's sum stays put while work moves up the tree, and a child
 * too short-lived to be sampled still lands in its parent. What would leave the sum is a
 * process that disappears while its parent is not a member (the command's root, reaped by the
 * runner; an orphan, reaped by init or the sandbox's init): its last sampled time is kept.
 *
 * What this misses (documented in docs/cost.md): CPU a departing process used after its last
 * sample (at most MEMORY_SAMPLE_MS each, typically the root's last moments); children a parent
 * never waits for (SIGCHLD ignored: the kernel reaps them without adding their time); and a
 * process that leaves the tree (double fork and setsid are still caught, but a process the tree
 * does not contain is not counted). A stage can only make its OWN figure smaller or larger by
 * these means: it misleads its own right-sizing, nothing else (the tree is found from the
 * command's own process group and descendants, which another stage cannot join).
 */
import { PEAK_WINDOW_MS } from '../domain/sizing/cpu-usage.js';
import type { ProcessEntry } from './process-tree.js';

interface SeenProcess {
  ppid: number;
  ticks: number;
}

export class TreeCpuMeter {
  private last = new Map<string, SeenProcess>();
  /** Ticks of processes gone from the tree without a member parent to reap them. */
  private departedTicks = 0;
  private totalTicks = 0;
  private window: { atMs: number; ticks: number } | undefined;
  private peak: number | undefined;

  constructor(private readonly ticksPerSecond: number) {}

  /** One sample of the tree's members, taken at `atMs`. */
  note(members: readonly ProcessEntry[], atMs: number): void {
    const now = new Map<string, SeenProcess>();
    for (const m of members) now.set(`${m.pid}:${m.startTime}`, { ppid: m.ppid, ticks: m.cpuTicks });
    const livePids = new Set(members.map((m) => m.pid));
    for (const [key, seen] of this.last) {
      // Reaped by a member: its time is in that member's cutime/cstime now. Otherwise keep what it had.
      if (!now.has(key) && !livePids.has(seen.ppid)) this.departedTicks += seen.ticks;
    }
    this.last = now;
    let current = this.departedTicks;
    for (const seen of now.values()) current += seen.ticks;
    // Never backwards: a sample read while a child was being reaped must not lose ticks.
    this.totalTicks = Math.max(this.totalTicks, current);
    if (!this.window) {
      this.window = { atMs, ticks: this.totalTicks };
    } else if (atMs - this.window.atMs >= PEAK_WINDOW_MS) {
      const rate = (this.totalTicks - this.window.ticks) / this.ticksPerSecond / ((atMs - this.window.atMs) / 1000);
      this.peak = Math.max(this.peak ?? 0, rate);
      this.window = { atMs, ticks: this.totalTicks };
    }
  }

  /** CPU seconds so far. */
  get seconds(): number {
    return this.totalTicks / this.ticksPerSecond;
  }

  /** The highest vCPUs over a full window; undefined while no window has closed. */
  get peakVcpu(): number | undefined {
    return this.peak;
  }
}
