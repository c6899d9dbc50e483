import type { StageHistory } from '../domain/plan/types.js';

/** One stage run, as the history records it. */
export interface StageRun {
  durationMs: number;
  peakMemoryMiB: number;
  peakDiskMiB: number;
  /** Where the runner measured CPU (domain/sizing/cpu-usage.ts). */
  cpu?: { peakVcpu: number; averageVcpu: number };
  /** The stage ran out of time or disk on Lambda and was escalated to Fargate. */
  escalated: boolean;
}

/**
 * What earlier builds measured per stage of a repository: the report records
 * each run, the planner reads it to predict durations and choose runners.
 */
export interface HistoryStore {
  /** The history of each named stage that has one (stages without history are absent). */
  loadHistory(repository: string, stageNames: readonly string[]): Promise<Record<string, StageHistory>>;
  /** Adds one run to the stage's history and returns the new history. */
  recordRun(repository: string, stage: string, run: StageRun): Promise<StageHistory>;
}
