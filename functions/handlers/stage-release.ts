/**
 * Critical-path scheduling, the callback half (domain/plan/batches.ts has the plan half).
 *
 * A stage with needs in its batch starts with `Wait for needs`, a `lambda:invoke.waitForTaskToken`
 * task (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
 * `waitForNeedsTask` stores the task token under `waits/{build}/{stage}.json`, then looks at
 * the needs' results. Whoever ends a need (`Release dependents` after a Lambda stage, `Record
 * Fargate result`, `Record stage error`, or a skip here) looks at each dependent that has a
 * stored token. Each side writes first and reads the other's record second, and S3 reads are
 * strongly consistent (https://aws.amazon.com/s3/consistency/), so at least one of them sees
 * both records: no release is lost. Both may see them: the second completion of a token fails
 * harmlessly (adapters/aws/sfn-task-tokens.ts).
 *
 * A dependent whose need did not succeed is skipped: its result is written `skipped` (as
 * `Select stages` does across batches), its task fails with `NeedsNotMet` (the state's Catch
 * ends the iteration), and its own dependents are looked at in turn.
 */
import { revokingResult } from '../domain/credentials/grant.js';
import type { StageResult, StageStatus } from '../domain/report/types.js';
import { buildFailureKey, stageResultKey, stageWaitKey } from '../domain/storage-keys.js';
import { PlanMissing, StageNotInPlan } from '../runner/errors.js';
import { readStageSlice } from '../runner/planned-stage.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import type { ReleaseDependentsInput, StageSummary, WaitForNeedsInput } from './build-state-machine.js';
import type { ScheduleDeps } from './schedule.js';
import { readJson, syntheticResult, writeJson } from './stage-records.js';

import { NEEDS_NOT_MET } from '../domain/report/usage-estimate.js';
export { NEEDS_NOT_MET };

const FAILED: ReadonlySet<StageStatus> = new Set<StageStatus>(['failed', 'timed_out', 'cancelled']);

interface WaitRecord {
  taskToken: string;
  failFast: boolean;
  /** Set once the stage was released or skipped: a later look (a retried step) changes nothing. */
  settled?: 'released' | 'skipped';
}

interface FailureRecord {
  stage: string;
  status: StageStatus;
}

export class TaskTokensMissing extends Error {
  override readonly name = 'TaskTokensMissing';
}

function tokensOf(deps: ScheduleDeps): TaskTokens {
  if (!deps.tokens) throw new TaskTokensMissing('the schedule function has no task token client: callback tasks cannot be completed');
  return deps.tokens;
}

/**
 * A result that is the stage's last: every result but the Lambda attempt's of a stage the state
 * machine escalates to Fargate (the Fargate run writes the last one).
 */
function finalResult(result: StageResult | undefined): StageResult | undefined {
  return result && revokingResult(result) ? result : undefined;
}

function describe(name: string, status: StageStatus): string {
  const words: Partial<Record<StageStatus, string>> = { failed: 'failed', timed_out: 'timed out', cancelled: 'was cancelled', skipped: 'was skipped' };
  return `${name} ${words[status] ?? status}`;
}

/** `Wait for needs`: store the token, then release the stage if its needs have already ended. */
export async function waitForNeedsTask(input: WaitForNeedsInput, deps: ScheduleDeps): Promise<{ stage: string; waiting: true }> {
  tokensOf(deps);
  const record: WaitRecord = { taskToken: input.taskToken, failFast: input.failFast };
  await writeJson(deps.store, stageWaitKey(input.buildId, input.stageName), record);
  await settleWaitingStage(input.buildId, input.planKey, input.stageName, deps);
  return { stage: input.stageName, waiting: true };
}

/** `Release dependents`: a Lambda stage that stages of its batch need has ended. */
export async function releaseDependentsTask(input: ReleaseDependentsInput, deps: ScheduleDeps): Promise<StageSummary> {
  const result = await readJson<StageResult>(deps.store, stageResultKey(input.buildId, input.stageName));
  await stageEnded(input.buildId, input.planKey, input.stageName, result?.status ?? 'failed', deps);
  return { stage: input.stageName, status: result?.status ?? 'failed' };
}

/**
 * A stage's last result is written: record a failure for fail-fast, then look at the stages that
 * need it. Called by every control-plane step that ends a stage.
 */
export async function stageEnded(buildId: string, planKey: string, stageName: string, status: StageStatus, deps: ScheduleDeps): Promise<void> {
  if (FAILED.has(status)) {
    const failure: FailureRecord = { stage: stageName, status };
    await writeJson(deps.store, buildFailureKey(buildId), failure);
  }
  await releaseDependents(buildId, planKey, stageName, deps);
}

async function releaseDependents(buildId: string, planKey: string, stageName: string, deps: ScheduleDeps): Promise<void> {
  let dependents: string[];
  try {
    ({ dependents } = await readStageSlice(deps.store, planKey, stageName));
  } catch (error) {
    // No plan with this stage: no stage can be waiting for it either (Wait for needs reads the
    // same plan), so there is nothing to release.
    if (error instanceof PlanMissing || error instanceof StageNotInPlan) return;
    throw error;
  }
  // Dependents in later batches have no token: Select stages decides for them.
  for (const dependent of dependents) await settleWaitingStage(buildId, planKey, dependent, deps);
}

/** Releases, skips or leaves waiting a stage that stored a token. */
async function settleWaitingStage(buildId: string, planKey: string, stageName: string, deps: ScheduleDeps): Promise<void> {
  const wait = await readJson<WaitRecord>(deps.store, stageWaitKey(buildId, stageName));
  if (!wait || wait.settled) return;
  const { stage } = await readStageSlice(deps.store, planKey, stageName);
  const needs = await Promise.all(
    stage.needs.map(async (need) => ({ need, result: finalResult(await readJson<StageResult>(deps.store, stageResultKey(buildId, need))) })),
  );
  const blocked = needs.filter(({ result }) => result !== undefined && result.status !== 'succeeded');
  if (blocked.length > 0) {
    const reason = `needs ${blocked.map(({ need, result }) => describe(need, result!.status)).join(', ')}`;
    return skipWaitingStage(buildId, planKey, stageName, stage.runner, wait, reason, deps);
  }
  if (needs.some(({ result }) => result === undefined)) return;
  if (wait.failFast) {
    const failure = await readJson<FailureRecord>(deps.store, buildFailureKey(buildId));
    if (failure) return skipWaitingStage(buildId, planKey, stageName, stage.runner, wait, `fail-fast: ${describe(failure.stage, failure.status)}`, deps);
  }
  await tokensOf(deps).succeed(wait.taskToken, { stage: stageName, released: true });
  await writeJson(deps.store, stageWaitKey(buildId, stageName), { ...wait, settled: 'released' } satisfies WaitRecord);
}

async function skipWaitingStage(
  buildId: string,
  planKey: string,
  stageName: string,
  runner: StageResult['runner'],
  wait: WaitRecord,
  reason: string,
  deps: ScheduleDeps,
): Promise<void> {
  const existing = await readJson<StageResult>(deps.store, stageResultKey(buildId, stageName));
  if (!existing) {
    // errorName tells the report this stage's iteration ran (Choose runner, Wait for needs, Stage skipped).
    const result = syntheticResult(buildId, stageName, { status: 'skipped', runner, exitCode: null, errorName: NEEDS_NOT_MET, reason, finishedAt: deps.now().toISOString() });
    await writeJson(deps.store, stageResultKey(buildId, stageName), result);
  }
  await tokensOf(deps).fail(wait.taskToken, NEEDS_NOT_MET, reason);
  await writeJson(deps.store, stageWaitKey(buildId, stageName), { ...wait, settled: 'skipped' } satisfies WaitRecord);
  await releaseDependents(buildId, planKey, stageName, deps);
}
