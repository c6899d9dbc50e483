/**
 * The schedule function: three small tasks of the state machine that read and write the
 * records in S3, dispatched on `action`.
 * - `Select stages`: which of a wave's stages run; records the skipped ones.
 * - `Record Fargate result`: the stopped task (or the task JSON of `States.TaskFailed`)
 *   becomes the stage result plus a run record with the billing timestamps.
 * - `Record stage error`: an error caught around a stage becomes a failed stage result.
 */
import { randomBytes } from 'node:crypto';
import { GRANT_TOKEN_BYTES, grantRecordKey, stageGrant, waveGrantSeconds } from '../domain/credentials/grant.js';
import type { LambdaSize, Plan, PlannedStage } from '../domain/plan/types.js';
import { stageRunKey } from '../domain/report/record-keys.js';
import { manifestKey, stageLogKey, stageResultKey } from '../domain/storage-keys.js';
import type { CapacityProvider, EscalationRecord, FailurePoint, StageRunRecord } from '../domain/report/run-record.js';
import { selectStages } from '../domain/report/stage-selection.js';
import type { StageResult, StageStatus } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type {
  CaughtError,
  EcsTask,
  RecordFargateResultInput,
  RecordStageErrorInput,
  ScheduleTaskInput,
  SelectStagesInput,
  SelectStagesOutput,
  SlimStage,
  StageSummary,
} from './build-state-machine.js';
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

const BUILD_CONTAINER = 'build';

export async function readJson<T>(store: ArtifactStore, key: string): Promise<T | undefined> {
  const text = await store.getText(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

async function writeJson(store: ArtifactStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value), 'application/json');
}

/** A Catch's `Cause`: JSON from Lambda (`errorMessage`) and ECS (the task), plain text locally. */
export function causeMessage(error: CaughtError | null | undefined): string {
  if (!error) return '';
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; StoppedReason?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
    if (typeof parsed.StoppedReason === 'string') return parsed.StoppedReason;
  } catch {
    // Not JSON: the text is the message.
  }
  return cause;
}

function causeNumber(error: CaughtError, field: string): number {
  try {
    const parsed = JSON.parse(error.Cause ?? '') as Record<string, unknown>;
    const value = parsed[field] ?? (parsed.errorInfo as Record<string, unknown> | undefined)?.[field];
    return typeof value === 'number' && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

function escalationOf(escalation: CaughtError | null): EscalationRecord | undefined {
  if (!escalation) return undefined;
  return { from: 'lambda', errorName: escalation.Error, reason: causeMessage(escalation), lambdaBilledMs: causeNumber(escalation, 'durationMs') };
}

function syntheticResult(buildId: string, stage: string, fields: Pick<StageResult, 'status' | 'runner' | 'exitCode' | 'reason' | 'errorName'> & { startedAt?: string; finishedAt: string; durationMs?: number }): StageResult {
  return {
    buildId,
    stage,
    startedAt: fields.startedAt ?? fields.finishedAt,
    durationMs: fields.durationMs ?? 0,
    peakMemoryMiB: 0,
    peakDiskMiB: 0,
    logKey: stageLogKey(buildId, stage),
    manifestKey: manifestKey(buildId, stage),
    artifactCount: 0,
    artifactBytes: 0,
    ...fields,
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
      const grant = stageGrant({ buildId: input.buildId, stage, secretsWithheld, now, lifetimeSeconds });
      await writeJson(deps.store, grantRecordKey(grantTokenHash(token)), grant);
      return { ...toSlimStage(stage, input.lambdaRunnerFunctionArn, deps.runnerFunctionFor), grant: token };
    }),
  );
}

// ---- Record Fargate result ----------------------------------------------------------------------

/** The task JSON: the `.sync` output, or the `Cause` of `States.TaskFailed`. */
export function taskOf(input: Pick<RecordFargateResultInput, 'task' | 'taskFailure'>): EcsTask | undefined {
  if (input.task) return input.task;
  if (!input.taskFailure?.Cause) return undefined;
  try {
    const parsed = JSON.parse(input.taskFailure.Cause) as EcsTask;
    return typeof parsed === 'object' && parsed !== null && ('TaskArn' in parsed || 'Containers' in parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function buildExitCode(task: EcsTask | undefined): number | null {
  const exit = task?.Containers?.find((c) => c.Name === BUILD_CONTAINER)?.ExitCode;
  return typeof exit === 'number' ? exit : null;
}

function iso(epochMs: number | undefined): string | undefined {
  return epochMs === undefined ? undefined : new Date(epochMs).toISOString();
}

export async function recordFargateResultTask(input: RecordFargateResultInput, deps: ScheduleDeps): Promise<StageSummary> {
  const task = taskOf(input);
  const exitCode = buildExitCode(task);
  const capacityProvider: CapacityProvider = input.capacityProvider;
  const run: StageRunRecord = {
    stage: input.stage.name,
    runner: 'fargate',
    escalation: escalationOf(input.escalation),
    fargate: {
      taskArn: task?.TaskArn,
      capacityProvider,
      spotFallback: input.stage.fargate.spot && capacityProvider === 'FARGATE',
      pullStartedAt: task?.PullStartedAt,
      stoppedAt: task?.StoppedAt,
      stopCode: task?.StopCode,
      stoppedReason: task?.StoppedReason,
      buildExitCode: exitCode,
    },
  };
  await writeJson(deps.store, stageRunKey(input.buildId, input.stage.name), run);

  // The publish container writes the result record, success or failure: it stands. A record
  // from the Lambda attempt of an escalated stage (runner lambda) is not this run's.
  const key = stageResultKey(input.buildId, input.stage.name);
  const published = await readJson<StageResult>(deps.store, key);
  if (published && published.runner === 'fargate') {
    return { stage: input.stage.name, status: published.status };
  }
  // No record: the task stopped before publishing one, so the stage failed whatever the exit code.
  const startedAt = iso(task?.StartedAt ?? task?.PullStartedAt);
  const finishedAt = iso(task?.StoppedAt) ?? deps.now().toISOString();
  const reasons = [task?.StoppedReason, exitCode !== null && exitCode !== 0 ? `build container exited with ${exitCode}` : undefined];
  if (!task && input.taskFailure) reasons.push(`${input.taskFailure.Error}: ${causeMessage(input.taskFailure)}`);
  if (exitCode === 0) reasons.push('the publish container did not record a result');
  const result = syntheticResult(input.buildId, input.stage.name, {
    status: 'failed',
    runner: 'fargate',
    exitCode,
    errorName: exitCode !== null && exitCode !== 0 ? 'CommandFailed' : (task?.StopCode ?? input.taskFailure?.Error ?? 'TaskFailed'),
    reason: reasons.filter((r): r is string => Boolean(r)).join('; '),
    startedAt,
    finishedAt,
    durationMs: startedAt ? Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) : 0,
  });
  await writeJson(deps.store, key, result);
  return { stage: input.stage.name, status: result.status };
}

// ---- Record stage error -------------------------------------------------------------------------

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
  const timedOut = input.error.Error === 'StageTimeout' || input.error.Error === 'States.Timeout';
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
