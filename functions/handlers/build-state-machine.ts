/**
 * The contract between `statemachines/build.asl.json` and the task handlers: the
 * `DefinitionSubstitutions` placeholders (the template and the tests read this list) and every
 * task's input and output. Payloads stay tiny: the full plan, results, logs and artifacts live in
 * S3 and only keys and routing fields travel through the execution (256 KiB per state).
 */
import type { S3RequestCount } from '../domain/report/cost-model.js';
import type { BuildRequest } from '../domain/build-request.js';
import type { Architecture } from '../domain/pipeline/types.js';
import type { Runner } from '../domain/plan/types.js';
import type { CapacityProvider, SpotInterruptionRecord } from '../domain/report/run-record.js';
import type { BuildStatus, StageStatus } from '../domain/report/types.js';
import type { TaskOverrides } from '../domain/fargate/overrides.js';

export const BUILD_STATE_MACHINE_FILE = 'statemachines/build.asl.json';

/** Every `${Name}` in the definition, with what SAM substitutes. */
export const BUILD_STATE_MACHINE_PLACEHOLDERS = {
  PlanFunctionArn: 'ARN of the plan function (handlers/plan.ts)',
  ScheduleFunctionArn: 'ARN of the schedule function (handlers/schedule.ts): Select stages, Record ... tasks',
  ReportFunctionArn: 'ARN of the report function (handlers/report.ts)',
  LambdaRunnerFunctionArn: 'ARN of the default Lambda runner function',
  FargatePrepareFunctionArn: 'ARN of the fargate-prepare function',
  ClusterArn: 'ARN of the ECS cluster with the FARGATE and FARGATE_SPOT capacity providers',
  SubnetIds: 'Comma-separated subnet ids for the tasks',
  SecurityGroupIds: 'Comma-separated security group ids for the tasks',
  AssignPublicIp: 'ENABLED (public subnets without NAT) or DISABLED',
  MaxStageConcurrency: 'Most stages of one wave running at once (a positive integer, as text)',
} as const;

export type BuildStateMachinePlaceholder = keyof typeof BUILD_STATE_MACHINE_PLACEHOLDERS;

/** The execution input. */
export interface BuildExecutionInput {
  buildId: string;
  request: BuildRequest;
}

/** A Step Functions error as a Catch puts it in the state (`Cause` is text: on AWS, JSON for Lambda and ECS errors). */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

// ---- Plan -----------------------------------------------------------------------------------

export interface PlanTaskInput extends BuildExecutionInput {
  /** `${MaxStageConcurrency}`, as text. */
  maxStageConcurrency: string;
  /** `$$.Execution.Id`: the execution's ARN, the `target_url` of the pending commit status. */
  executionArn: string;
}

/**
 * The routing fields of a planned stage: all the state machine reads. Everything else (commands,
 * env, the Lambda size the runner function already has) stays in the plan in S3.
 */
export interface SlimStage {
  name: string;
  runner: Runner;
  /** The Lambda runner function to invoke (its memory tier); only for Lambda stages. */
  lambdaFunction?: string;
  /** The Fargate size (the escalation size for a Lambda stage); `spot` tells a Spot fallback. */
  fargate: { cpu: number; memory: number; ephemeralStorageGiB: number; architecture: Architecture; spot: boolean };
  /**
   * The stage's grant token (64 hex digits), minted by `Select stages`: the runner trades
   * it with StageCredentials for this stage's S3 session and declared secrets
   * (domain/credentials/grant.ts).
   */
  grant?: string;
  /** A need of this stage is in its batch: it starts with `Wait for needs` (domain/plan/batches.ts). */
  waits?: boolean;
  /** A stage of its batch needs this one: a Lambda stage ends with `Release dependents`. */
  releases?: boolean;
  /** How long `Wait for needs` may wait: the batch's grant lifetime. */
  waitSeconds?: number;
}

/**
 * A batch of the schedule as the plan returns it (domain/plan/batches.ts): its index and size
 * only, so the plan's output stays small whatever the pipeline's size. `Select stages` reads the
 * batch's stages from its slice in S3.
 */
export interface BatchRef {
  index: number;
  stageCount: number;
}

export interface PlanTaskOutput {
  planKey: string;
  /** False when the pipeline's triggers do not match the push or pull request, or when the farm refused the build. */
  build: boolean;
  /**
   * True when the farm would not run the build (fork policy `off`, or a predicted cost over a
   * limit): `batches` is empty, so no stage starts, and the report is `refused` with `reason`.
   */
  refused: boolean;
  /**
   * The plan's `secretsWithheld`: `Run batches` passes it to every stage's runner (as `fromFork`,
   * the name the runners read), so the farm's fork policy, not the request alone, decides.
   */
  secretsWithheld: boolean;
  /** The plan's predicted cost (0 when no plan was made): a refused build's report quotes it. */
  predictedCostUsd: number;
  reason: string;
  failFast: boolean;
  maxStageConcurrency: number;
  batches: BatchRef[];
}

// ---- Schedule (one function, three tasks) ---------------------------------------------------

export interface SelectStagesInput {
  action: 'selectStages';
  buildId: string;
  planKey: string;
  failFast: boolean;
  batch: BatchRef;
  /** `${LambdaRunnerFunctionArn}`: the runner for stages no memory tier function is configured for. */
  lambdaRunnerFunctionArn: string;
  /** A pull request from a fork: its grants name no secret unless the plan says otherwise (`secretsWithheld`). */
  fromFork?: boolean;
}

export interface SelectStagesOutput {
  run: SlimStage[];
  skipped: string[];
}

/** One iteration of `Run stages`: its state as the states pass it along. */
export interface StageIterationState {
  buildId: string;
  planKey: string;
  /**
   * The plan's `secretsWithheld` (a fork pull request, unless the farm runs with `forks: build`):
   * its stages get no secrets (the runners enforce it). Named `fromFork` where the runners read it.
   */
  fromFork: boolean;
  stage: SlimStage;
  /** Set by the Catch that escalates a Lambda stage to Fargate. */
  escalation: CaughtError | null;
  /** Set by `Prepare Fargate task`. */
  fargate: FargatePrepared | null;
  /** The `.sync` output on success. */
  task: EcsTask | null;
  /** The caught `States.TaskFailed` (task JSON in `Cause`). */
  taskFailure: CaughtError | null;
  error: CaughtError | null;
  /** The Spot task Fargate interrupted, once `Clear the interrupted task` sent the stage to on-demand. */
  spotInterruption: SpotInterruptionRecord | null;
}

export interface RecordStageErrorInput {
  action: 'recordStageError';
  buildId: string;
  planKey: string;
  stage: SlimStage;
  /** Set when the error came on the Fargate path after `Prepare Fargate task`. */
  fargate: FargatePrepared | null;
  escalation: CaughtError | null;
  error: CaughtError;
}

export interface RecordFargateResultInput {
  action: 'recordFargateResult';
  buildId: string;
  planKey: string;
  stage: SlimStage;
  /** The provider the last RunTask asked for. */
  capacityProvider: CapacityProvider;
  escalation: CaughtError | null;
  task: EcsTask | null;
  taskFailure: CaughtError | null;
  /** Set on the on-demand run after a Spot interruption. */
  spotInterruption: SpotInterruptionRecord | null;
  /** `$.fargate.s3Requests`: what `Prepare Fargate task` requested from S3. */
  prepareS3Requests?: S3RequestCount | null;
}

/**
 * What `Clear the interrupted task` merges into the iteration's state (States.JsonMerge) before
 * the on-demand run: the interrupted task's results cleared, the task itself kept for billing.
 */
export interface OnDemandRerun {
  task: null;
  taskFailure: null;
  spotInterruption: SpotInterruptionRecord;
}

/** `Record Fargate result`'s output: the stage's line, and the rerun when Spot interrupted the task. */
export interface FargateResultSummary extends StageSummary {
  rerun: OnDemandRerun | null;
}

/**
 * `Wait for needs` (`lambda:invoke.waitForTaskToken`): stores the task token and releases the
 * stage at once when its needs have finished; else whoever records the last need releases it.
 */
export interface WaitForNeedsInput {
  action: 'waitForNeeds';
  buildId: string;
  planKey: string;
  stageName: string;
  failFast: boolean;
  /** `$$.Task.Token`. */
  taskToken: string;
}

/** `Release dependents`: after a Lambda stage that stages of its batch wait for. */
export interface ReleaseDependentsInput {
  action: 'releaseDependents';
  buildId: string;
  planKey: string;
  stageName: string;
  failFast: boolean;
}

/** What `Wait for needs`'s Lambda returns (Step Functions ignores it: the task ends by its token). */
export interface WaitingStage {
  stage: string;
  waiting: true;
}

export type ScheduleTaskOutput = SelectStagesOutput | StageSummary | WaitingStage;

export type ScheduleTaskInput = SelectStagesInput | RecordStageErrorInput | RecordFargateResultInput | WaitForNeedsInput | ReleaseDependentsInput;

/** What an iteration of `Run stages` returns: a line, not the result record. */
export interface StageSummary {
  stage: string;
  status: StageStatus;
}

// ---- Fargate --------------------------------------------------------------------------------

/**
 * What `Prepare Fargate task` keeps under `$.fargate` from the fargate-prepare function's output
 * (`FargatePrepareOutput` in handlers/fargate-prepare.ts, which takes keys only and reads the
 * stage's size, image and root choice from the plan).
 */
export interface FargatePrepared {
  taskDefinitionArn: string;
  /** `FARGATE_SPOT` when the stage opted in; `Fall back to on-demand` replaces it with `FARGATE`. */
  capacityProvider: CapacityProvider;
  /** RunTask `overrides`, PascalCase, at most 8,192 characters (the prepare function checks). */
  overrides: TaskOverrides;
  family: string;
  /** `TimeoutSecondsPath` of `Run Fargate task`: the stage's timeout plus the task's overhead. */
  timeoutSeconds: number;
  /** The S3 requests `Prepare Fargate task` made, billed by the record task. */
  s3Requests?: S3RequestCount;
}

/** The part of the `ecs:runTask.sync` output (a DescribeTasks task, timestamps in epoch ms) we read. */
export interface EcsTask {
  TaskArn?: string;
  LastStatus?: string;
  StopCode?: string;
  StoppedReason?: string;
  CapacityProviderName?: string;
  PullStartedAt?: number;
  PullStoppedAt?: number;
  StartedAt?: number;
  StoppedAt?: number;
  Containers?: { Name?: string; ExitCode?: number; Reason?: string; LastStatus?: string }[];
  /**
   * Local farm only (AWS never sends it): PullStartedAt was set this far before the task's start by
   * the pull model (domain/fargate/pull-model.ts), as no image was pulled; the report marks it estimated.
   */
  BuildfarmPullModelledMs?: number;
}

// ---- Report ---------------------------------------------------------------------------------

export interface ReportTaskInput {
  buildId: string;
  /** `$$.Execution.StartTime`. */
  startedAt: string;
  /** `$$.Execution.Id`: the execution's ARN, for its Step Functions console URL (`local:{buildId}` in the local farm). */
  executionArn: string;
  /**
   * The whole execution state (`state.$: $`): the build request, `plan` once planned, `error`
   * when a Catch routed here. The request travels only here: a second copy beside it would double
   * the largest state input (256 KiB limit).
   */
  state: { request: BuildRequest; plan?: PlanTaskOutput; error?: CaughtError };
}

export interface ReportTaskOutput {
  status: BuildStatus;
  totalCostUsd: number;
  reportKey: string;
}
