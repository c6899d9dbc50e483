/**
 * What a stage run returns (the agent's result record) and the build report.
 */
import type { StageCacheReport } from '../cache/cache-report.js';
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';

export type StageStatus = 'succeeded' | 'failed' | 'timed_out' | 'skipped' | 'cancelled';
/**
 * `skipped`: the pipeline's triggers (or `[skip ci]`) did not want the build. `refused`: the farm
 * would not run it (fork policy `off`, or a predicted cost over a limit); no stage started.
 */
export type BuildStatus = 'succeeded' | 'failed' | 'cancelled' | 'error' | 'interrupted' | 'skipped' | 'refused';

export interface ArtifactEntry {
  /** Path relative to the workspace. */
  path: string;
  size: number;
  sha256: string;
}

/**
 * The result record of one stage run: written to S3 and returned to the state
 * machine, so it stays small (well under 256 KiB): the artifact list lives in
 * the manifest object, only its totals are here.
 */
export interface StageResult {
  buildId: string;
  stage: string;
  status: StageStatus;
  runner: Runner;
  /** Exit code of the failing command (0 on success, null when none ran or it was killed). */
  exitCode: number | null;
  /** The error name for a failure (CommandFailed, StageTimeout, OutOfDisk, OutOfMemory, ...). */
  errorName?: string;
  reason: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  peakMemoryMiB: number;
  peakDiskMiB: number;
  logKey: string;
  manifestKey: string;
  artifactCount: number;
  artifactBytes: number;
  /** The stage's dependency cache: hit, fallback or miss, and the bytes moved. */
  cache?: StageCacheReport;
}

export interface StageReport {
  name: string;
  status: StageStatus;
  runner: Runner;
  lambda?: LambdaSize;
  fargate?: FargateSize;
  durationMs: number;
  billedDurationMs: number;
  costUsd: number;
  predictedCostUsd: number;
  exitCode: number | null;
  errorName?: string;
  reason: string;
  /** The stage was escalated from Lambda to Fargate. */
  escalated: boolean;
  /** From the stage's result: what its cache did. */
  cache?: StageCacheReport;
  artifacts: ArtifactEntry[];
  logKey?: string;
  peakMemoryMiB?: number;
  peakDiskMiB?: number;
  startedAt?: string;
  finishedAt?: string;
}

export interface BuildReport {
  buildId: string;
  repository: string;
  ref: string;
  sha: string;
  status: BuildStatus;
  /** Set when the build could not be planned or run (invalid pipeline file, infrastructure). */
  error?: { name: string; message: string };
  /** Why no stage ran: set when the build was `skipped` (not triggered) or `refused` (names the setting and the figures). */
  reason?: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  stages: StageReport[];
  /** Compute plus orchestration plus storage requests. */
  totalCostUsd: number;
  costBreakdown: {
    computeUsd: number;
    stateTransitions: number;
    stateTransitionsUsd: number;
    s3Requests: number;
    s3RequestsUsd: number;
  };
  predictedCostUsd: number;
  /** What the same stages would have cost all on Fargate. */
  allFargateCostUsd: number;
}
