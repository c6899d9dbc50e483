/**
 * The schedule function: three small tasks of the state machine that read and write the
 * records in S3, dispatched on `action`.
 * - `Select stages`: which of a wave's stages run; records the skipped ones.
 * - `Record Fargate result` (fargate-result.ts): the stopped task (or the task JSON of
 *   `States.TaskFailed`) becomes the stage result plus a run record with the billing
 *   timestamps, or an on-demand rerun after a Spot interruption.
 * - `Record stage error`: an error caught around a stage becomes a failed stage result.
 */
import { randomBytes } from 'node:crypto';
import { GRANT_TOKEN_BYTES, grantRecordKey, stageGrant, waveGrantSeconds } from '../domain/credentials/grant.js';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SfnTaskTokens } from '../adapters/aws/sfn-task-tokens.js';
import { parseBatchSlice, type BatchPlanSlice } from '../domain/plan/stage-slice.js';
import type { LambdaSize, PlannedStage } from '../domain/plan/types.js';
import { stageRunKey } from '../domain/report/record-keys.js';
import type { FailurePoint, StageRunRecord } from '../domain/report/run-record.js';
import { selectStages } from '../domain/report/stage-selection.js';
import type { CacheScope } from '../domain/cache/scope.js';
import type { StageResult, StageStatus } from '../domain/report/types.js';
import { batchPlanKey, buildFailureKey, stageResultKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import type {
  RecordStageErrorInput,
  ScheduleTaskInput,
  ScheduleTaskOutput,
  SelectStagesInput,
  SelectStagesOutput,
  SlimStage,
  StageSummary,
} from './build-state-machine.js';
import { recordFargateResultTask } from './fargate-result.js';
import { releaseDependentsTask, stageEnded, waitForNeedsTask } from './stage-release.js';
import { causeMessage, escalationOf, readJson, recordRequests, syntheticResult, writeJson } from './stage-records.js';
import { grantTokenHash } from './stage-credentials-core.js';
import { artifactStore, s3RequestCounter } from './task-environment.js';
import type { S3RequestCount } from '../domain/report/cost-model.js';


export interface ScheduleDeps {
  store: ArtifactStore;
  /** ISO time, for the records this function writes. */
  now(): Date;
  /** The runner function for a Lambda size, when memory tiers have their own functions. */
  runnerFunctionFor?(size: LambdaSize): string | undefined;
  /** A fresh grant token; default 32 bytes from crypto.randomBytes, hex (tests replace it). */
  newGrantToken?(): string;
  /** The S3 requests `store`'s client has made so far: the record tasks bill theirs in the run record. */
  s3Requests?: () => S3RequestCount;
  /** Completes `Wait for needs` tasks (SendTaskSuccess/SendTaskFailure on AWS). */
  tokens?: TaskTokens;
}

/** A grant token: unguessable, made here (a step that runs no user code), never by the domain. */
export function randomGrantToken(): string {
  return randomBytes(GRANT_TOKEN_BYTES).toString('hex');
}

/** A planned stage's routing fields, as the stage iterations carry them. */
export function toSlimStage(stage: PlannedStage, defaultRunner: string, runnerFunctionFor?: (size: LambdaSize) => string | undefined): SlimStage {
  return {
    name: stage.name,
    runner: stage.runner,
    ...(stage.runner === 'lambda' ? { lambdaFunction: (stage.lambda && runnerFunctionFor?.(stage.lambda)) ?? defaultRunner } : {}),
    fargate: { ...stage.fargate },
  };
}

// ---- Select stages ----------------------------------------------------------------------------

async function loadBatch(store: ArtifactStore, planKey: string, index: number): Promise<BatchPlanSlice> {
  const key = batchPlanKey(planKey, index);
  const text = await store.getText(key);
  if (text === undefined) throw new Error(`batch ${index} of the plan (${key}) is missing`);
  return parseBatchSlice(text, index, key);
}

const FAILED: ReadonlySet<StageStatus> = new Set<StageStatus>(['failed', 'timed_out', 'cancelled']);

/**
 * A failure before this batch, for fail-fast: the build's failure record (written by the
 * control-plane steps that end a stage, stage-release.ts), or a failed stage of the previous
 * batch (a Lambda stage that fails returns its result and no control-plane step follows it).
 * Found in the previous batch, it is recorded, so each batch reads only the one before it.
 */
async function failureBefore(input: SelectStagesInput, deps: ScheduleDeps): Promise<{ stage: string; status: StageStatus } | undefined> {
  const recorded = await readJson<{ stage: string; status: StageStatus }>(deps.store, buildFailureKey(input.buildId));
  if (recorded || input.batch.index === 0) return recorded;
  const previous = await loadBatch(deps.store, input.planKey, input.batch.index - 1);
  const results = await Promise.all(previous.stages.map(({ stage }) => readJson<StageResult>(deps.store, stageResultKey(input.buildId, stage.name))));
  const failed = results.find((result) => result !== undefined && FAILED.has(result.status));
  if (!failed) return undefined;
  const failure = { stage: failed.stage, status: failed.status };
  await writeJson(deps.store, buildFailureKey(input.buildId), failure);
  return failure;
}

/**
 * Which of a batch's stages run. Needs in earlier batches have their results: a stage whose
 * need there did not succeed is skipped now, and with fail-fast every stage is skipped after a
 * failure. Needs inside the batch are waited for (`Wait for needs`, stage-release.ts). Reads
 * only the batch's slice and the results of its stages' needs outside it: constant per stage.
 */
export async function selectStagesTask(input: SelectStagesInput, deps: ScheduleDeps): Promise<SelectStagesOutput> {
  const batch = await loadBatch(deps.store, input.planKey, input.batch.index);
  const inBatch = new Set(batch.stages.map(({ stage }) => stage.name));
  const outside = [...new Set(batch.stages.flatMap(({ stage }) => stage.needs.filter((need) => !inBatch.has(need))))];
  const earlier = new Map<string, StageStatus>();
  await Promise.all(
    outside.map(async (name) => {
      const result = await readJson<StageResult>(deps.store, stageResultKey(input.buildId, name));
      if (result) earlier.set(name, result.status);
    }),
  );
  if (input.failFast) {
    const failure = await failureBefore(input, deps);
    if (failure) earlier.set(failure.stage, failure.status);
  }
  const planned = new Map<string, PlannedStage>(batch.stages.map(({ stage }) => [stage.name, stage]));
  const wave = batch.stages.map(({ stage }) => ({ name: stage.name, needs: stage.needs.filter((need) => !inBatch.has(need)) }));
  const selection = selectStages({ wave, earlier, failFast: input.failFast });
  const finishedAt = deps.now().toISOString();
  await Promise.all(
    selection.skipped.map((skip) => {
      const stage = planned.get(skip.name)!;
      const result = syntheticResult(input.buildId, stage.name, { status: 'skipped', runner: stage.runner, exitCode: null, reason: skip.reason, finishedAt });
      return writeJson(deps.store, stageResultKey(input.buildId, stage.name), result);
    }),
  );
  const flags = new Map(batch.stages.map(({ stage, waits, releases }) => [stage.name, { waits, releases }]));
  const run = selection.run.map((name) => planned.get(name)!);
  const granted = await grantStages(input, batch.secretsWithheld, batch.cacheScope, run, deps);
  return {
    run: granted.map((slim) => ({ ...slim, ...flags.get(slim.name)! })),
    skipped: selection.skipped.map((s) => s.name),
  };
}

/**
 * One grant per stage that runs: the record goes to `grants/{sha256(token)}.json`, the token
 * into the stage's item (the runner's only key to its S3 session and secrets). A fork's build
 * gets grants without secrets: the plan's `secretsWithheld` (the farm's fork policy) decides,
 * else `fromFork`; with neither known the secrets are withheld.
 */
async function grantStages(input: SelectStagesInput, planWithholds: boolean | undefined, cacheScope: CacheScope | undefined, run: PlannedStage[], deps: ScheduleDeps): Promise<SlimStage[]> {
  const secretsWithheld = planWithholds ?? input.fromFork ?? true;
  const lifetimeSeconds = waveGrantSeconds(run);
  const now = deps.now().getTime();
  return Promise.all(
    run.map(async (stage) => {
      const token = (deps.newGrantToken ?? randomGrantToken)();
      const grant = stageGrant({ buildId: input.buildId, stage, secretsWithheld, now, lifetimeSeconds, ...(cacheScope ? { cacheScope } : {}) });
      await writeJson(deps.store, grantRecordKey(grantTokenHash(token)), grant);
      // A waiting stage's wait is bounded by its grant: past it the stage could not run anyway.
      return { ...toSlimStage(stage, input.lambdaRunnerFunctionArn, deps.runnerFunctionFor), grant: token, waitSeconds: lifetimeSeconds };
    }),
  );
}

// ---- Record stage error -------------------------------------------------------------------------

/**
 * Errors that mean the stage ran out of time: the agent's own `StageTimeout`, a state's
 * `States.Timeout` (`Run on Lambda`, or `Run Fargate task` at the stage's timeout plus overhead),
 * and `Sandbox.Timedout`, which Lambda reports when it stopped the function at its configured
 * timeout (https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html).
 */
const TIMEOUT_ERRORS = new Set(['StageTimeout', 'States.Timeout', 'Sandbox.Timedout']);

/** The run record, with the requests the stage's control-plane tasks made when they were counted. */
async function writeRun(deps: ScheduleDeps, input: RecordStageErrorInput, run: StageRunRecord, requests: StageRunRecord['s3Requests']): Promise<void> {
  await writeJson(deps.store, stageRunKey(input.buildId, input.stage.name), requests ? { ...run, s3Requests: requests } : run);
}

export async function recordStageErrorTask(input: RecordStageErrorInput, deps: ScheduleDeps): Promise<StageSummary> {
  const onFargate = input.fargate !== null || input.escalation !== null || input.stage.runner === 'fargate';
  const runner = onFargate ? 'fargate' : 'lambda';
  const at: FailurePoint = !onFargate ? 'lambda' : input.fargate === null ? 'prepare' : 'runTask';
  const capacityProvider = input.fargate?.capacityProvider ?? 'FARGATE';
  const run: StageRunRecord = {
    stage: input.stage.name,
    runner,
    escalation: escalationOf(input.escalation),
    error: { name: input.error.Error, at },
    // The task was asked for but never ran: no timestamps, nothing billed.
    ...(at === 'runTask' ? { fargate: { capacityProvider, spotFallback: input.stage.fargate.spot && capacityProvider === 'FARGATE', buildExitCode: null } } : {}),
  };
  const before = deps.s3Requests?.();
  const key = stageResultKey(input.buildId, input.stage.name);
  const existing = await readJson<StageResult>(deps.store, key);
  // The agent records its own failures (CommandFailed, StageTimeout, ...) before the runner
  // throws them: that record stands. A record from another runner (the Lambda attempt of an
  // escalated stage) is not this run's.
  if (existing && existing.runner === runner && existing.status !== 'succeeded') {
    await writeRun(deps, input, run, recordRequests(deps, before, input.fargate?.s3Requests, 1));
    await stageEnded(input.buildId, input.planKey, input.stage.name, existing.status, deps);
    return { stage: input.stage.name, status: existing.status };
  }
  const timedOut = TIMEOUT_ERRORS.has(input.error.Error);
  const capacity = input.fargate?.capacityProvider;
  const message = causeMessage(input.error);
  const result = syntheticResult(input.buildId, input.stage.name, {
    status: timedOut ? 'timed_out' : 'failed',
    runner,
    exitCode: null,
    errorName: input.error.Error,
    reason: capacity ? `${input.error.Error} on ${capacity}: ${message}` : `${input.error.Error}: ${message}`,
    finishedAt: deps.now().toISOString(),
  });
  await writeRun(deps, input, run, recordRequests(deps, before, input.fargate?.s3Requests, 2));
  await writeJson(deps.store, key, result);
  await stageEnded(input.buildId, input.planKey, input.stage.name, result.status, deps);
  return { stage: input.stage.name, status: result.status };
}

export async function scheduleTask(input: ScheduleTaskInput, deps: ScheduleDeps): Promise<ScheduleTaskOutput> {
  switch (input.action) {
    case 'selectStages':
      return selectStagesTask(input, deps);
    case 'waitForNeeds':
      return waitForNeedsTask(input, deps);
    case 'releaseDependents':
      return releaseDependentsTask(input, deps);
    case 'recordFargateResult':
      return recordFargateResultTask(input, deps);
    case 'recordStageError':
      return recordStageErrorTask(input, deps);
  }
}

// ---- AWS wiring ---------------------------------------------------------------------------------

let awsDeps: ScheduleDeps | undefined;

/**
 * `RUNNER_FUNCTIONS` (optional): JSON `{"<memoryMB>": "<function ARN>"}`, one Lambda runner per
 * memory tier; a stage whose tier has no entry runs on `${LambdaRunnerFunctionArn}`.
 */
function depsFromEnvironment(): ScheduleDeps {
  const tiers = JSON.parse(process.env.RUNNER_FUNCTIONS || '{}') as Record<string, string>;
  return {
    store: artifactStore(),
    s3Requests: () => s3RequestCounter().snapshot(),
    now: () => new Date(),
    tokens: new SfnTaskTokens(new SFNClient({})),
    runnerFunctionFor: (size) => tiers[String(size.memoryMB)],
  };
}

export async function handler(input: ScheduleTaskInput): Promise<ScheduleTaskOutput> {
  awsDeps ??= depsFromEnvironment();
  return scheduleTask(input, awsDeps);
}
