/**
 * What a stage's commands did with the CPU, as the runner measured it: CPU seconds (user +
 * system) of the commands' processes, the wall seconds they ran, and what that implies, the
 * average and the peak number of vCPUs in use. Right-sizing (right-size.ts) and `resources: auto`
 * (plan/auto-resources.ts) size CPU from `peakVcpu`.
 *
 * How each runner measures it (docs/cost.md, "How CPU is measured"):
 * - `process-tree`: the runner samples /proc/<pid>/stat of the command's process tree (Lambda,
 *   the local farm, and the local Fargate executor): functions/runner/tree-cpu-meter.ts.
 * - `container-stats`: on a Fargate task, the live-log container samples the build container's
 *   Docker stats from the task metadata endpoint v4 (domain/fargate/container-stats.ts).
 */
export const CPU_SOURCES = ['process-tree', 'container-stats'] as const;
export type CpuSource = (typeof CPU_SOURCES)[number];

export interface CpuUsage {
  /** User + system CPU seconds the stage's commands used. */
  seconds: number;
  /** Wall seconds the commands ran (the stage's setup and artifact upload are not in it). */
  wallSeconds: number;
  /** seconds / wallSeconds. */
  averageVcpu: number;
  /** The highest CPU seconds per wall second over any window of PEAK_WINDOW_MS (the average when no window closed). */
  peakVcpu: number;
  source: CpuSource;
}

/** Peak vCPUs are taken over windows this long: a 10 ms clock tick is then 1 % of a vCPU. */
export const PEAK_WINDOW_MS = 1_000;

const round3 = (n: number): number => Math.round(n * 1000) / 1000;

/** The usage of one command (or a whole stage) from its totals; the peak is never below the average. */
export function cpuUsage(seconds: number, wallSeconds: number, peakVcpu: number | undefined, source: CpuSource): CpuUsage {
  const averageVcpu = wallSeconds > 0 ? seconds / wallSeconds : 0;
  return {
    seconds: round3(seconds),
    wallSeconds: round3(wallSeconds),
    averageVcpu: round3(averageVcpu),
    peakVcpu: round3(Math.max(averageVcpu, peakVcpu ?? 0)),
    source,
  };
}

/** A stage's commands one after another: seconds and wall time add up, the peak is the highest. */
export function addCpuUsage(a: CpuUsage | undefined, b: CpuUsage): CpuUsage {
  if (!a) return b;
  return cpuUsage(a.seconds + b.seconds, a.wallSeconds + b.wallSeconds, Math.max(a.peakVcpu, b.peakVcpu), b.source);
}

const isFiniteCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** A CpuUsage read back from a record anyone with bucket access could have edited: undefined unless well-formed. */
export function parseCpuUsage(value: unknown): CpuUsage | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { seconds, wallSeconds, averageVcpu, peakVcpu, source } = value as Record<string, unknown>;
  if (!isFiniteCount(seconds) || !isFiniteCount(wallSeconds) || !isFiniteCount(averageVcpu) || !isFiniteCount(peakVcpu)) return undefined;
  if (!CPU_SOURCES.includes(source as CpuSource)) return undefined;
  return { seconds, wallSeconds, averageVcpu, peakVcpu, source: source as CpuSource };
}

/** "CPU 4.2 s over 2.1 s: average 2.00, peak 2.00 vCPU", for the report and the dashboard. */
export function describeCpuUsage(usage: CpuUsage): string {
  return `CPU ${usage.seconds.toFixed(1)} s over ${usage.wallSeconds.toFixed(1)} s: average ${usage.averageVcpu.toFixed(2)}, peak ${usage.peakVcpu.toFixed(2)} vCPU`;
}
