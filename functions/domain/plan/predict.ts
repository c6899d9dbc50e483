import type { StageHistory } from './types.js';

/** How many recent runs the prediction looks at. */
export const HISTORY_WINDOW = 10;

/**
 * The duration to plan for from history: the slowest of the recent runs, so the
 * prediction is a cautious one (a stage put on Lambda should not hit the deadline).
 */
export function predictedDurationMs(history: StageHistory | undefined): number | undefined {
  const recent = history?.durationsMs.slice(-HISTORY_WINDOW) ?? [];
  if (recent.length === 0) return undefined;
  return Math.max(...recent);
}

/** Adds one run to a stage's history, keeping the window bounded. */
export function recordRun(
  history: StageHistory | undefined,
  run: { durationMs: number; peakMemoryMiB: number; peakDiskMiB: number; escalated: boolean; cpu?: { peakVcpu: number; averageVcpu: number } },
): StageHistory {
  // CPU as memory: the latest run's peak, or a higher recent one. A run nothing measured keeps what was known.
  const cpu = run.cpu
    ? { peakVcpu: Math.max(run.cpu.peakVcpu, (history?.peakVcpu ?? 0) * 0.9), averageVcpu: run.cpu.averageVcpu }
    : history?.peakVcpu !== undefined
      ? { peakVcpu: history.peakVcpu, averageVcpu: history.averageVcpu ?? history.peakVcpu }
      : undefined;
  return {
    durationsMs: [...(history?.durationsMs ?? []), run.durationMs].slice(-HISTORY_WINDOW),
    // Peaks age out with the window only roughly: the latest run's peak, or a higher recent one.
    peakMemoryMiB: Math.max(run.peakMemoryMiB, (history?.peakMemoryMiB ?? 0) * 0.9),
    peakDiskMiB: Math.max(run.peakDiskMiB, (history?.peakDiskMiB ?? 0) * 0.9),
    ...(cpu ? { peakVcpu: Number(cpu.peakVcpu.toFixed(3)), averageVcpu: Number(cpu.averageVcpu.toFixed(3)) } : {}),
    // Only the latest run: once a stage has run on Fargate, its measured duration and disk decide.
    escalated: run.escalated,
  };
}
