/**
 * What a stage run returns (the agent's result record) and the build report.
 */
import type { StageCacheReport } from '../cache/cache-report.js';
import type { StagePhases } from './stage-phases.js';
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';
import type { PriceBookInfo } from '../pricing/price-book.js';
import type { CostBreakdown } from './cost-breakdown.js';
import type { S3RequestCount } from './cost-model.js';
import type { CostComparison } from './cost-comparison.js';
import type { RightSizing } from '../sizing/right-size.js';
import type { CpuUsage } from '../sizing/cpu-usage.js';
import type { PrCostComparison } from './pr-cost.js';

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
  /** What the stage's commands did with the CPU (domain/sizing/cpu-usage.ts); absent where not measured. */
  cpuUsage?: CpuUsage;
  logKey: string;
  manifestKey: string;
  artifactCount: number;
  artifactBytes: number;
  /**
   * S3 requests the stage's runner made, counted per request by the S3 client (adapters/aws/
   * s3-request-counter.ts), including this record's own PUT. Absent in records written before counting.
   */
  s3Requests?: S3RequestCount;
  /** Bytes of the stage's log sent to CloudWatch Logs (the Lambda runner's stdout, the task's awslogs). */
  logBytes?: number;
  /**
   * Lambda only: the invocation as Lambda bills it. `durationMs` runs from the handler's start to
   * this record (the agent cannot read its own REPORT line); `initDurationMs` is the sandbox's INIT
   * phase when this invocation was its first (0 otherwise), billed since 2025-08-01.
   */
  lambdaInvocation?: { durationMs: number; initDurationMs: number };
  /** The stage's dependency cache: hit, fallback or miss, and the bytes moved. */
  cache?: StageCacheReport;
  /** Where the stage's time went (snapshot, cache, commands, sandbox start, artifacts). */
  phases?: StagePhases;
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
  /** From the stage's result: where its time went. */
  phases?: StagePhases;
  artifacts: ArtifactEntry[];
  logKey?: string;
  peakMemoryMiB?: number;
  peakDiskMiB?: number;
  /** From the stage's result: CPU seconds and the average and peak vCPUs in use, where measured. */
  cpuUsage?: CpuUsage;
  startedAt?: string;
  finishedAt?: string;
  /** The plan's `historyId` (`{stage}/{definition hash}`): where this run is recorded for the planner. */
  historyId?: string;
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
  /** Exactly the sum of `costBreakdown.lines`: compute, IPv4, logs, orchestration and S3 requests. */
  totalCostUsd: number;
  costBreakdown: CostBreakdown;
  /** The prediction on the same basis as the total (compute, orchestration, S3, logs, IPv4). */
  predictedCostUsd: number;
  /** What the same stages would have cost all on Fargate, start-up and orchestration included. */
  allFargateCostUsd: number;
  /** The prices every figure used. */
  priceBook: PriceBookInfo;
  /** Predicted vs actual, all-Fargate and GitHub-hosted runners, each total to total. */
  comparison: CostComparison;
  /** A pull request's cost against its base branch's last successful build (domain/report/pr-cost.ts). */
  prCost?: PrCostComparison;
  /** Per stage, what right-sizing from measured peaks would save (domain/sizing/right-size.ts). */
  rightSizing?: RightSizing[];
}
