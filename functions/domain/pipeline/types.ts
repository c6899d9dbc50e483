/**
 * The pipeline file (`.buildfarm.yml`) after parsing: every field resolved,
 * defaults applied, units normalised. This is what lint and the planner see.
 */

export type RunnerChoice = 'auto' | 'lambda' | 'fargate';
export type Architecture = 'x86_64' | 'arm64';
export type EventName = 'push' | 'pull_request';

/** Requested resources, in the units AWS bills: vCPU, MiB, MiB. */
export interface Resources {
  /** vCPU, 0.25 to 16. */
  cpu: number;
  /** MiB (AWS's "MB" for Lambda and Fargate is this binary unit). */
  memoryMiB: number;
  /** Workspace disk the stage needs, MiB. */
  diskMiB: number;
}

/** Where a secret lives; only the reference travels, never the value. */
export interface SecretRef {
  source: 'secretsmanager' | 'ssm';
  /** Secret name or ARN, or SSM parameter name or ARN. */
  id: string;
  /** For Secrets Manager JSON secrets: the key inside the JSON. */
  jsonKey?: string;
  /** The reference as written in the pipeline file. */
  raw: string;
}

/** `if:` on a stage. Every listed field must match; an empty list matches nothing. */
export interface StageCondition {
  events?: EventName[];
  /** Branch globs (`main`, `release/*`). */
  branches?: string[];
}

/** A trigger filter under `on.push` or `on.pull_request`. */
export interface TriggerFilter {
  branches?: string[];
  branchesIgnore?: string[];
  paths?: string[];
  pathsIgnore?: string[];
}

export interface Triggers {
  push?: TriggerFilter;
  pull_request?: TriggerFilter;
}

/**
 * `cache:` on a stage or in `defaults`: files kept between builds of a branch
 * (docs/pipeline-file.md#cache). The key is `prefix` plus a hash of `keyFiles`.
 */
export interface CacheSpec {
  /** `~/...` (the stage's HOME) or workspace-relative paths or globs. */
  paths: string[];
  /** Workspace-relative files whose contents make the key (a lockfile). */
  keyFiles: string[];
  /** Names the cache family: a miss falls back to the newest entry with the same prefix. */
  prefix: string;
}

export interface StageSpec {
  name: string;
  commands: string[];
  needs: string[];
  runner: RunnerChoice;
  image?: string;
  resources: Resources;
  /** Which resource fields the user asked for (stage or defaults), so reasons can say so. */
  explicit: { cpu: boolean; memory: boolean; disk: boolean };
  timeoutSeconds: number;
  env: Record<string, string>;
  secrets: Record<string, SecretRef>;
  artifacts: string[];
  spot: boolean;
  architecture: Architecture;
  if?: StageCondition;
  /** Fargate only: run the build container as root instead of uid 65534. */
  runAsRoot: boolean;
  /** `log-limit` (stage or defaults), bytes; absent: the farm's default, 64 MiB. */
  logLimitBytes?: number;
  /**
   * `resources: auto`: the planner sizes the stage from its measured peaks (domain/sizing/right-size.ts);
   * `resources` holds the defaults it starts from until there is history.
   */
  resourcesAuto?: boolean;
  /** The stage's dependency cache (its own `cache:` or the one in `defaults`). */
  cache?: CacheSpec;
}

export interface Pipeline {
  version: 1;
  on: Triggers;
  /** Stop scheduling new stages after the first failure. Off by default. */
  failFast: boolean;
  /** A newer push to the same branch stops this build (AWS and local farm). */
  cancelSuperseded: boolean;
  /** In file order. */
  stages: StageSpec[];
  /** Top-level `optimize:`, overriding the farm's setting for this pipeline (domain/plan/optimize.ts). */
  optimize?: 'cost' | 'time' | 'balanced';
  /** Top-level `cost:` settings. */
  cost?: { prThresholdPercent?: number };
}
