/**
 * What a stage run returns (the agent's result record) and the build report.
 */
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';

export type StageStatus = 'succeeded' | 'failed' | 'timed_out' | 'skipped' | 'cancelled';
/**
 * `skipped`: the pipeline's triggers (or `[skip ci]`) did not want the build. `refused`: the farm
 * would not run it (fork policy `off`, or a predicted cost over a limit); no stage started.
 */
export type BuildStatus = 'succeeded' | 'failed' | 'cancelled' | 'error' | 'interrupted' | 'skipped' | 'refused';

export interface ArtifactEntry {
  /** Path relative to the workspace, `/`-separated. */
  path: string;
  /** Bytes of a file; 0 for a link. */
  size: number;
  /** Permission bits (0o755 for an executable). Absent in manifests written before archives. */
  mode?: number;
  /** `symlink` for a symbolic link (kept as a link); a file otherwise. */
  type?: 'file' | 'symlink';
  /** A link's target, relative to the link. */
  target?: string;
  /** Per-file digest: only in manifests written before archives (the archive's digest covers every file now). */
  sha256?: string;
}

/** The stored archive of a stage's artifacts, as the manifest records it. */
export interface ArtifactArchive {
  key: string;
  /** sha256 (hex) and size of the stored object, checked when a later stage downloads it. */
  sha256: string;
  bytes: number;
  compression: 'none' | 'gzip';
}

/** `manifest.json`: what a stage stored (`archive` is null when its globs matched nothing). */
export interface ArtifactManifest {
  version: 2;
  archive: ArtifactArchive | null;
  artifacts: ArtifactEntry[];
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
