/**
 * How many execution history events a build may write. Every state of an inline Map iteration
 * adds its events to the one execution's history, which holds at most 25,000 events; past it the
 * execution fails (no Catch runs) (https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-state-machine-executions).
 * The planner refuses a pipeline whose build could reach it, naming the limit, rather than
 * letting the build die half way.
 *
 * Events per state, from the history event types Step Functions records
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html):
 * - Task (lambda:invoke): TaskStateEntered, TaskScheduled, TaskStarted, TaskSucceeded or
 *   TaskFailed, TaskStateExited: 5. Each retry adds TaskScheduled, TaskStarted, TaskFailed: 3.
 * - Task (ecs:runTask.sync): the same plus TaskSubmitted: 6.
 * - Task (lambda:invoke.waitForTaskToken, `Wait for needs`): the same as .sync, TaskSubmitted
 *   once the function was invoked, then TaskSucceeded or TaskFailed when the token is completed: 6.
 * - Choice, Pass, Succeed: their StateEntered and StateExited: 2.
 * - Map: MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited: 4; and per
 *   iteration MapIterationStarted, MapIterationSucceeded: 2.
 * - The execution: ExecutionStarted and ExecutionSucceeded (or Failed): 2.
 * test/statemachine/history-budget.test.ts counts these along each path of build.asl.json as
 * the local interpreter walks it and holds the numbers below to that count.
 */
import type { Plan, PlannedStage } from './types.js';

export const HISTORY_EVENT_LIMIT = 25_000;
/** Kept for retries of throttled calls, capacity errors and escalations, which no plan can foresee. */
export const HISTORY_EVENT_BUDGET = 22_500;

export const EVENTS_PER_STATE = { task: 5, syncTask: 6, callbackTask: 6, choice: 2, pass: 2, succeed: 2, map: 4, mapIteration: 2, retry: 3, execution: 2 } as const;
const E = EVENTS_PER_STATE;

/** Plan, the Run batches Map, Report and the execution's own events. */
export const EVENTS_PER_BUILD = E.execution + E.task + E.map + E.task;
/**
 * A batch (domain/plan/batches.ts): its Run batches iteration, Select stages and the Run stages
 * Map. Batches are whole waves merged, so a plan has at most as many batches as waves.
 */
export const EVENTS_PER_BATCH = E.mapIteration + E.task + E.map;

/** One stage's iteration of Run stages, by the path it takes through build.asl.json. */
export const EVENTS_PER_STAGE = {
  /** Choose runner, Run on Lambda. */
  lambda: E.mapIteration + E.choice + E.task,
  /** Choose runner, Prepare Fargate task, Run Fargate task, Record Fargate result, Interrupted on Spot?, Stage recorded. */
  fargate: E.mapIteration + E.choice + E.task + E.syncTask + E.task + E.choice + E.succeed,
  /** Run on Lambda caught into the Fargate path. */
  escalated: E.mapIteration + E.choice + E.task + E.task + E.syncTask + E.task + E.choice + E.succeed,
  /** Select stages recorded it: no iteration. */
  skipped: 0,
  /** A stage with a need in its batch: `Wait for needs` before its runner. */
  waitExtra: E.callbackTask,
  /** A Lambda stage that stages of its batch need: `Release dependents` after it. */
  releaseExtra: E.task,
  /** A stage whose need in its batch failed: Choose runner, Wait for needs (failed NeedsNotMet), Stage skipped. */
  skippedWaiting: E.mapIteration + E.choice + E.callbackTask + E.succeed,
  /**
   * A Spot task's extra path, the worst of: four capacity retries, Spot capacity?, Fall back to
   * on-demand and the task again with its retries; or a Spot interruption (Record Fargate result,
   * Interrupted on Spot?, Clear the interrupted task, Fall back to on-demand, the task again).
   */
  spotExtra: Math.max(4 * E.retry + E.choice + E.pass + E.syncTask + 4 * E.retry, E.task + E.choice + E.pass + E.pass + E.syncTask),
} as const;

/**
 * The events this stage's iteration writes on its planned path, a Spot stage's worst extra
 * included. An escalation (a Lambda stage rerun on Fargate, +20) is not planned: the budget's
 * reserve covers a few; a build where many Lambda stages escalate can still reach the limit, and
 * then the execution's end is reported by the EventBridge rule (report-execution-end.ts).
 */
/**
 * `waits` and `releases` are what the batches make of the stage. The planner does not know the
 * farm's concurrency, which decides the batches, so it counts the most they can be: every stage
 * with needs waits, every Lambda stage with dependents releases.
 */
export function plannedStageEvents(stage: Pick<PlannedStage, 'runner' | 'fargate'>, flags: { waits: boolean; releases: boolean } = { waits: false, releases: false }): number {
  const path = stage.runner === 'lambda' ? EVENTS_PER_STAGE.lambda : EVENTS_PER_STAGE.fargate;
  const wait = flags.waits ? EVENTS_PER_STAGE.waitExtra : 0;
  const release = flags.releases && stage.runner === 'lambda' ? EVENTS_PER_STAGE.releaseExtra : 0;
  return path + wait + release + (stage.fargate.spot ? EVENTS_PER_STAGE.spotExtra : 0);
}

/**
 * The most events a wave can add besides its stages' own paths. The farm's concurrency decides
 * the batches, which the planner does not know, but each wave either starts a batch (11 events;
 * its stages' needs are in earlier batches, so none waits) or joins the batch before it (no batch
 * events; its stages with needs may wait, and their Lambda needs release them).
 */
function waveEvents(wave: readonly string[], byName: ReadonlyMap<string, Pick<PlannedStage, 'runner' | 'needs'>>): number {
  const waiting = wave.filter((name) => (byName.get(name)?.needs.length ?? 0) > 0);
  const releasing = new Set(waiting.flatMap((name) => byName.get(name)!.needs).filter((need) => byName.get(need)?.runner === 'lambda'));
  return Math.max(EVENTS_PER_BATCH, waiting.length * EVENTS_PER_STAGE.waitExtra + releasing.size * EVENTS_PER_STAGE.releaseExtra);
}

export function plannedBuildEvents(plan: Pick<Plan, 'waves' | 'stages'>): number {
  const byName = new Map(plan.stages.map((stage) => [stage.name, stage]));
  const waves = plan.waves.reduce((sum, wave) => sum + waveEvents(wave, byName), 0);
  return EVENTS_PER_BUILD + waves + plan.stages.reduce((sum, stage) => sum + plannedStageEvents(stage), 0);
}

/** Why the plan is refused, or undefined when its build fits the history. */
export function historyBudgetIssue(plan: Pick<Plan, 'waves' | 'stages'>): string | undefined {
  const events = plannedBuildEvents(plan);
  if (events <= HISTORY_EVENT_BUDGET) return undefined;
  return (
    `this pipeline's build could write ${events} execution history events (${plan.stages.length} stages in ${plan.waves.length} waves), ` +
    `above the ${HISTORY_EVENT_BUDGET} the farm allows under Step Functions' limit of ${HISTORY_EVENT_LIMIT} events per execution; ` +
    'split it into fewer stages (24 events per Fargate stage, 9 per Lambda stage, 11 per wave, or 6 per waiting stage and 5 per releasing Lambda stage when a wave joins the batch before it)'
  );
}
