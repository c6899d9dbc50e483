/**
 * `Record Fargate result`: the stopped task (the `.sync` output, or the task JSON in the Cause of
 * `States.TaskFailed`) becomes the stage's result and its run record with the billing
 * timestamps, or, for a Spot task Fargate interrupted, an on-demand rerun.
 */
import { SPOT_INTERRUPTED_ERROR } from '../domain/credentials/grant.js';
import { SPOT_INTERRUPTION } from '../domain/fargate/run-task-errors.js';
import { stageRunKey } from '../domain/report/record-keys.js';
import type { CapacityProvider, StageRunRecord } from '../domain/report/run-record.js';
import type { StageResult } from '../domain/report/types.js';
import { stageResultKey } from '../domain/storage-keys.js';
import type { EcsTask, FargateResultSummary, OnDemandRerun, RecordFargateResultInput, StageSummary } from './build-state-machine.js';
import type { ScheduleDeps } from './schedule.js';
import { stageEnded } from './stage-release.js';
import { BUILD_CONTAINER, causeMessage, escalationOf, readJson, recordRequests, syntheticResult, writeJson } from './stage-records.js';

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

/**
 * A Spot task Fargate interrupted (StopCode SpotInterruption) runs once more on on-demand
 * Fargate: the interruption says nothing about the stage. On-demand tasks are never interrupted,
 * so this happens at most once per stage.
 */
function onDemandRerun(input: RecordFargateResultInput, task: EcsTask | undefined): OnDemandRerun | null {
  if (input.capacityProvider !== 'FARGATE_SPOT' || task?.StopCode !== SPOT_INTERRUPTION) return null;
  return {
    task: null,
    taskFailure: null,
    spotInterruption: { taskArn: task.TaskArn, pullStartedAt: task.PullStartedAt, stoppedAt: task.StoppedAt, stoppedReason: task.StoppedReason },
  };
}

export async function recordFargateResultTask(input: RecordFargateResultInput, deps: ScheduleDeps): Promise<FargateResultSummary> {
  const task = taskOf(input);
  const rerun = onDemandRerun(input, task);
  if (rerun) {
    const before = deps.s3Requests?.();
    // What the interrupted task's helpers counted, in the result its publish recorded (if it got
    // that far: otherwise its fetch's count went with the task's volume).
    const key = stageResultKey(input.buildId, input.stage.name);
    const published = await readJson<StageResult>(deps.store, key);
    const theirs = published?.runner === 'fargate' && Date.parse(published.finishedAt) >= (task?.PullStartedAt ?? 0) ? published.s3Requests : undefined;
    // The interrupted task's publish wrote a result, which would end the stage's grant before the
    // on-demand run's helpers use it: it is replaced by a record saying the stage runs again
    // (grant.ts SPOT_INTERRUPTED_ERROR). That run's publish and Record Fargate result write the stage's records.
    const interrupted: Pick<StageResult, 'buildId' | 'stage' | 'runner' | 'errorName' | 'reason'> = {
      buildId: input.buildId,
      stage: input.stage.name,
      runner: 'fargate',
      errorName: SPOT_INTERRUPTED_ERROR,
      reason: 'the Spot task was interrupted; the stage runs again on on-demand Fargate',
    };
    // This step's own GET and PUT (the PUT counted ahead, as it cannot count itself), plus the task's.
    const ours = recordRequests(deps, before, theirs, 1);
    await writeJson(deps.store, key, interrupted);
    const billed = ours ? { ...rerun, spotInterruption: { ...rerun.spotInterruption, s3Requests: ours } } : rerun;
    return { stage: input.stage.name, status: 'failed', rerun: billed };
  }
  const summary = await recordFargateTask(input, task, deps);
  await stageEnded(input.buildId, input.planKey, input.stage.name, summary.status, deps);
  return { ...summary, rerun: null };
}

async function recordFargateTask(input: RecordFargateResultInput, task: EcsTask | undefined, deps: ScheduleDeps): Promise<StageSummary> {
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
      ...(task?.BuildfarmPullModelledMs !== undefined ? { pullEstimated: true } : {}),
      stopCode: task?.StopCode,
      stoppedReason: task?.StoppedReason,
      buildExitCode: exitCode,
      ...(input.spotInterruption ? { spotInterruption: input.spotInterruption } : {}),
    },
  };
  const before = deps.s3Requests?.();
  // The publish container writes the result record, success or failure: it stands. A record
  // from the Lambda attempt of an escalated stage (runner lambda) is not this run's.
  const key = stageResultKey(input.buildId, input.stage.name);
  const published = await readJson<StageResult>(deps.store, key);
  // A record the interrupted Spot task published is not this run's: it finished before this task started.
  const since = task?.PullStartedAt ?? input.spotInterruption?.stoppedAt ?? 0;
  const fromThisTask = !input.spotInterruption || (published !== undefined && Date.parse(published.finishedAt) >= since);
  const result = published && published.runner === 'fargate' && fromThisTask ? undefined : syntheticTaskResult(input, task, exitCode, deps);
  // The run record carries this task's requests (its own PUT and the synthetic result's included) and Prepare's.
  const counted = recordRequests(deps, before, input.prepareS3Requests, result ? 2 : 1);
  await writeJson(deps.store, stageRunKey(input.buildId, input.stage.name), counted ? { ...run, s3Requests: counted } : run);
  if (!result) return { stage: input.stage.name, status: published!.status };
  await writeJson(deps.store, key, result);
  return { stage: input.stage.name, status: result.status };
}

/** No record: the task stopped before publishing one, so the stage failed whatever the exit code. */
function syntheticTaskResult(input: RecordFargateResultInput, task: EcsTask | undefined, exitCode: number | null, deps: ScheduleDeps): StageResult {
  const startedAt = iso(task?.StartedAt ?? task?.PullStartedAt);
  const finishedAt = iso(task?.StoppedAt) ?? deps.now().toISOString();
  const reasons = [task?.StoppedReason, exitCode !== null && exitCode !== 0 ? `build container exited with ${exitCode}` : undefined];
  if (!task && input.taskFailure) reasons.push(`${input.taskFailure.Error}: ${causeMessage(input.taskFailure)}`);
  if (exitCode === 0) reasons.push('the publish container did not record a result');
  return syntheticResult(input.buildId, input.stage.name, {
    status: 'failed',
    runner: 'fargate',
    exitCode,
    errorName: exitCode !== null && exitCode !== 0 ? 'CommandFailed' : (task?.StopCode ?? input.taskFailure?.Error ?? 'TaskFailed'),
    reason: reasons.filter((r): r is string => Boolean(r)).join('; '),
    startedAt,
    finishedAt,
    durationMs: startedAt ? Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) : 0,
  });
}

