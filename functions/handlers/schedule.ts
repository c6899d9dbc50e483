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
import type { LambdaSize, Plan, PlannedStage } from '../domain/plan/types.js';
import { stageRunKey } from '../domain/report/record-keys.js';
import type { FailurePoint, StageRunRecord } from '../domain/report/run-record.js';
import { selectStages } from '../domain/report/stage-selection.js';
import type { StageResult, StageStatus } from '../domain/report/types.js';
import { stageResultKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type {
  RecordStageErrorInput,
  ScheduleTaskInput,
  SelectStagesInput,
  SelectStagesOutput,
  SlimStage,
  StageSummary,
} from './build-state-machine.js';
import { recordFargateResultTask } from './fargate-result.js';
import { causeMessage, escalationOf, readJson, syntheticResult, writeJson } from './stage-records.js';
import { grantTokenHash } from './stage-credentials-core.js';
import { artifactStore } from './task-environment.js';


export interface ScheduleDeps {
  store: ArtifactStore;
  /** ISO time, for the records this function writes. */
  now(): Date;
  /** The runner function for a Lambda size, when memory tiers have their own functions. */
  runnerFunctionFor?(size: LambdaSize): string | undefined;
  /** A fresh grant token; default 32 bytes from crypto.randomBytes, hex (tests replace it). */
  newGrantToken?(): string;
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

async function loadPlan(store: ArtifactStore, key: string): Promise<Plan> {
  const plan = await readJson<Plan>(store, key);
  if (!plan) throw new Error(`plan ${key} is missing`);
  return plan;
}

export async function selectStagesTask(input: SelectStagesInput, deps: ScheduleDeps): Promise<SelectStagesOutput> {
  const plan = await loadPlan(deps.store, input.planKey);
  const names = plan.waves[input.wave.index] ?? [];
  const earlierNames = plan.waves.slice(0, input.wave.index).flat();
  const earlier = new Map<string, StageStatus>();
  await Promise.all(
    earlierNames.map(async (name) => {
      const result = await readJson<StageResult>(deps.store, stageResultKey(input.buildId, name));
      if (result) earlier.set(name, result.status);
    }),
  );
  const planned = new Map<string, PlannedStage>(plan.stages.map((s) => [s.name, s]));
  const wave = names.map((name) => planned.get(name)!);
  const selection = selectStages({ wave, earlier, failFast: input.failFast });
  const finishedAt = deps.now().toISOString();
  await Promise.all(
    selection.skipped.map((skip) => {
      const stage = planned.get(skip.name)!;
      const result = syntheticResult(input.buildId, stage.name, { status: 'skipped', runner: stage.runner, exitCode: null, reason: skip.reason, finishedAt });
      return writeJson(deps.store, stageResultKey(input.buildId, stage.name), result);
    }),
  );
  const run = selection.run.map((name) => planned.get(name)!);
  return {
    run: await grantStages(input, plan, run, deps),
    skipped: selection.skipped.map((s) => s.name),
  };
}

/**
 * One grant per stage that runs: the record goes to `grants/{sha256(token)}.json`, the token
 * into the stage's item (the runner's only key to its S3 session and secrets). A fork's build
 * gets grants without secrets: the plan's `secretsWithheld` (the farm's fork policy) decides,
 * else `fromFork`; with neither known the secrets are withheld.
 */
async function grantStages(input: SelectStagesInput, plan: Plan, run: PlannedStage[], deps: ScheduleDeps): Promise<SlimStage[]> {
  const secretsWithheld = (plan as Plan & { secretsWithheld?: boolean }).secretsWithheld ?? input.fromFork ?? true;
  const lifetimeSeconds = waveGrantSeconds(run);
  const now = deps.now().getTime();
  return Promise.all(
    run.map(async (stage) => {
      const token = (deps.newGrantToken ?? randomGrantToken)();
      const grant = stageGrant({ buildId: input.buildId, stage, secretsWithheld, now, lifetimeSeconds, ...(plan.cacheScope ? { cacheScope: plan.cacheScope } : {}) });
      await writeJson(deps.store, grantRecordKey(grantTokenHash(token)), grant);
      return { ...toSlimStage(stage, input.lambdaRunnerFunctionArn, deps.runnerFunctionFor), grant: token };
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
  await writeJson(deps.store, stageRunKey(input.buildId, input.stage.name), run);

  const key = stageResultKey(input.buildId, input.stage.name);
  const existing = await readJson<StageResult>(deps.store, key);
  // The agent records its own failures (CommandFailed, StageTimeout, ...) before the runner
  // throws them: that record stands. A record from another runner (the Lambda attempt of an
  // escalated stage) is not this run's.
  if (existing && existing.runner === runner && existing.status !== 'succeeded') {
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
  await writeJson(deps.store, key, result);
  return { stage: input.stage.name, status: result.status };
}

export async function scheduleTask(input: ScheduleTaskInput, deps: ScheduleDeps): Promise<SelectStagesOutput | StageSummary> {
  switch (input.action) {
    case 'selectStages':
      return selectStagesTask(input, deps);
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
    now: () => new Date(),
    runnerFunctionFor: (size) => tiers[String(size.memoryMB)],
  };
}

export async function handler(input: ScheduleTaskInput): Promise<SelectStagesOutput | StageSummary> {
  awsDeps ??= depsFromEnvironment();
  return scheduleTask(input, awsDeps);
}
