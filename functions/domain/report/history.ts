/**
 * Stage history: what the report records after each build and the planner reads for the next
 * prediction (durations, peaks, and whether Lambda was too small). Only runs that say
 * something about the stage's needs count: a succeeded run gives its duration and peaks; an
 * escalation says Lambda did not fit, whatever happened on Fargate after.
 */
import type { StageHistory } from '../plan/types.js';
import type { StageReport } from './types.js';

/** Enough runs for a stable prediction; old runs describe old code. */
export const HISTORY_DURATIONS_KEPT = 10;

export function nextHistory(previous: StageHistory | undefined, stage: StageReport): StageHistory | undefined {
  const ran = stage.status === 'succeeded';
  if (!ran && !stage.escalated) return undefined;
  const base: StageHistory = previous ?? { durationsMs: [], peakMemoryMiB: 0, peakDiskMiB: 0, escalated: false };
  return {
    durationsMs: ran ? [...base.durationsMs, stage.durationMs].slice(-HISTORY_DURATIONS_KEPT) : base.durationsMs,
    peakMemoryMiB: ran ? (stage.peakMemoryMiB ?? base.peakMemoryMiB) : base.peakMemoryMiB,
    peakDiskMiB: ran ? (stage.peakDiskMiB ?? base.peakDiskMiB) : base.peakDiskMiB,
    escalated: base.escalated || stage.escalated,
  };
}
