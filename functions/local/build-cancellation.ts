/** A running build that is stopped: its progress is ignored from then on, and it ends cancelled with the stop's reason. */
import type { BuildProgress } from './build-runner.js';

/** Progress callbacks that do nothing once `signal` is aborted. */
export function ignoredAfter(signal: AbortSignal, progress: BuildProgress): BuildProgress {
  return {
    planned(plan) {
      if (!signal.aborted) progress.planned(plan);
    },
    stageStarted(stage, at) {
      if (!signal.aborted) progress.stageStarted(stage, at);
    },
    stageLog(stage, chunk) {
      if (!signal.aborted) progress.stageLog(stage, chunk);
    },
    stageFinished(result) {
      if (!signal.aborted) progress.stageFinished(result);
    },
  };
}

export function cancelledBy(signal: AbortSignal): { name: string; message: string } {
  const reason = signal.reason as unknown;
  return { name: 'Cancelled', message: reason instanceof Error ? reason.message : String(reason ?? 'cancelled') };
}
