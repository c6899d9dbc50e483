/**
 * The plan: the contract between the planner, the CLI (`buildfarm plan --json`)
 * and the state machine. Stable and documented in the README.
 */
import type { OptimizeGoal } from './optimize.js';
import type { RightSizing } from '../sizing/right-size.js';
import type { CacheScope } from '../cache/scope.js';
import type { Architecture, CacheSpec, SecretRef } from '../pipeline/types.js';

export type Runner = 'lambda' | 'fargate';

/** What a Lambda runner invocation is billed at. */
export interface LambdaSize {
  /** The runner function's configured memory, MB (128 to 10240). */
  memoryMB: number;
  /** The runner function's /tmp, MB (512 to 10240). */
  ephemeralStorageMB: number;
  architecture: Architecture;
}

/** A valid Fargate task size, in the units RunTask overrides take. */
export interface FargateSize {
  /** CPU units, 256 to 16384. */
  cpu: number;
  /** MiB. */
  memory: number;
  /** 20 to 200. */
  ephemeralStorageGiB: number;
  architecture: Architecture;
  spot: boolean;
}

export interface PlannedStage {
  name: string;
  wave: number;
  runner: Runner;
  /** Why this runner and size, in words a person reads. */
  reason: string;
  timeoutSeconds: number;
  /** Direct dependencies. */
  needs: string[];
  /** Every stage this one depends on, directly or through others: their artifacts join the workspace. */
  upstream: string[];
  /**
   * The stages whose artifacts join the workspace: those of `upstream` that declare artifacts
   * (artifact-sources.ts). Absent in plans written before it existed.
   */
  artifactsFrom?: string[];
  commands: string[];
  env: Record<string, string>;
  /** References only; values are fetched by the runner at run time. */
  secrets: Record<string, SecretRef>;
  artifacts: string[];
  /** The stage's dependency cache (restored before its commands, saved after a success). */
  cache?: CacheSpec;
  image?: string;
  runAsRoot: boolean;
  /** The stage log's cap in bytes, when the pipeline file sets `log-limit` (else 64 MiB, log-cap.ts). */
  logLimitBytes?: number;
  /** Present when `runner` is `lambda`. */
  lambda?: LambdaSize;
  /** The Fargate size: the stage's size when `runner` is `fargate`, the escalation size otherwise. */
  fargate: FargateSize;
  /** Seconds the prediction assumed (history when there is some, else the timeout). */
  predictedDurationSeconds: number;
  /** Where the prediction came from. */
  predictedFrom: 'timeout' | 'history';
  predictedCostUsd: number;
  /** `{stage}/{definition hash}`: where the report records this run's history (domain/plan/stage-definition.ts). */
  historyId?: string;
  /** A cheaper size that fits the stage's measured peaks, and what it saves a run (from history only). */
  rightSizing?: RightSizing;
  /** `resources: auto` sized the stage from history: what it applied, in words. */
  autoSized?: string;
}

export interface SkippedStage {
  name: string;
  reason: string;
}

export interface Plan {
  version: 1;
  /** Stage names by wave; a wave's stages depend only on earlier waves. */
  waves: string[][];
  stages: PlannedStage[];
  /** Stages left out by `if:` (and their dependents). */
  skipped: SkippedStage[];
  failFast: boolean;
  cancelSuperseded: boolean;
  region: string;
  predictedCostUsd: number;
  /**
   * No stage of this build gets a secret: a pull request from a fork, unless the farm runs with
   * `forks: build` (domain/plan/admission.ts). The runners and the credentials minted for a
   * stage follow it.
   */
  secretsWithheld: boolean;
  /**
   * The key of the build's budget reservation in the spend ledger (domain/budget/reservations.ts),
   * when a budget admitted it: the Report releases it once the actual cost is recorded.
   */
  budgetReservation?: string;
  /** S3 requests the Plan task made (its own PUT of this object included), when it counted them. */
  s3Requests?: { put: number; get: number };
  /** The pipeline's `cost: { pr-threshold }`, which the report's pull request cost check uses over the farm's. */
  prCostThresholdPercent?: number;
  /**
   * Which branches' caches the build's stages read and which one they write (domain/cache/scope.ts).
   * Absent when no stage has a cache or the build's origin is unknown (`buildfarm plan`): then no cache is used.
   */
  cacheScope?: CacheScope;
}

/** What the build is for: the planner evaluates `if:` against it. */
export interface PlanContext {
  event: 'push' | 'pull_request';
  /** The pushed branch, or a pull request's head branch. */
  branch: string;
  /** A pull request's base branch: `if: branch` matches it, as `on.pull_request.branches` does. */
  baseBranch?: string;
  /** The plan's `secretsWithheld` (false when absent: `buildfarm plan` plans a build of your own). */
  secretsWithheld?: boolean;
  /** The build's cache scope (domain/cache/scope.ts); the plan keeps it when a stage has a cache. */
  cacheScope?: CacheScope;
}

/** The farm's own settings that change plans. */
export interface PlannerConfig {
  region: string;
  /** The Lambda runner's /tmp, MB (template parameter; default 512). */
  lambdaEphemeralStorageMB: number;
  /**
   * The Lambda runner tiers the farm deploys (MB; template parameter LambdaRunnerMaxMemoryMB).
   * A stage needing more memory than the largest goes to Fargate. Absent: every tier.
   */
  lambdaRunnerTiersMB?: readonly number[];
  /** What runner choice weighs (domain/plan/optimize.ts); a pipeline's `optimize:` overrides it. Default `balanced`. */
  optimize?: OptimizeGoal;
}

/** What earlier builds measured for a stage; the report records it, the planner reads it. */
export interface StageHistory {
  /** Recent wall durations, ms, newest last. */
  durationsMs: number[];
  peakMemoryMiB: number;
  peakDiskMiB: number;
  /**
   * The vCPUs the stage's commands used at their peak (over 1 s windows) and on average, where
   * measured (domain/sizing/cpu-usage.ts). Absent in histories written before CPU was measured
   * and for stages no runner measured: then right-sizing keeps the CPU the stage asks for.
   */
  peakVcpu?: number;
  averageVcpu?: number;
  /** The stage ran out of time or disk on Lambda and was escalated. */
  escalated: boolean;
}
