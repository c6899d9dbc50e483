/**
 * How long a build may run, from its plan: when its budget reservation stops counting
 * (reservations.ts). The state machine has no execution-wide timeout (a Standard execution may
 * run a year: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html), but
 * every state it runs has one, so a build's duration is bounded by its stages' along its longest
 * chain of `needs` (a stage starts as soon as its needs have ended):
 *
 * - a Lambda stage: its `Run on Lambda` state (960 s), then, escalated, the Fargate task's state
 *   (its timeout plus FARGATE_TASK_OVERHEAD_SECONDS, domain/fargate/task-timeout.ts);
 * - a Fargate stage: the Fargate task's state; twice on Spot, whose interrupted task is run
 *   again on demand ("Fall back to on-demand" in statemachines/build.asl.json), possibly near
 *   the end of its first run (escalated Lambda stages on Spot too);
 * - each stage also STAGE_SLACK_SECONDS for Prepare (300 s), recording and release (120 s each)
 *   and the retries' back-off;
 * - the build BUILD_SLACK_SECONDS for Plan (900 s), Select stages and Report (300 s).
 *
 * Retries of a whole attempt after a Lambda service error are not counted (rare; each would add
 * up to a timeout), and the bound is capped at MAX_RESERVATION_SECONDS: a build that runs longer
 * than its bound holds no reservation for the rest of its run, and the budgets see its cost when
 * it is reported. The cap is what the lifecycle rule on `spend/reserved/` must outlast.
 */
import { fargateStateTimeoutSeconds } from '../fargate/task-timeout.js';
import type { Plan, PlannedStage } from '../plan/types.js';

/** The `Run on Lambda` states' TimeoutSeconds in statemachines/build.asl.json. */
export const LAMBDA_STATE_TIMEOUT_SECONDS = 960;
export const STAGE_SLACK_SECONDS = 900;
export const BUILD_SLACK_SECONDS = 1800;
/** Seven days; template.yaml expires `spend/reserved/` objects after 8. */
export const MAX_RESERVATION_SECONDS = 7 * 24 * 3600;

function stageBoundSeconds(stage: PlannedStage): number {
  const fargateRuns = stage.fargate?.spot === true ? 2 : 1;
  const fargate = fargateRuns * fargateStateTimeoutSeconds(stage.timeoutSeconds);
  return (stage.runner === 'lambda' ? LAMBDA_STATE_TIMEOUT_SECONDS : 0) + fargate + STAGE_SLACK_SECONDS;
}

/** The longest the build of `plan` can run, in seconds, at most MAX_RESERVATION_SECONDS. */
export function buildDurationBoundSeconds(plan: Pick<Plan, 'stages'>): number {
  const byName = new Map(plan.stages.map((s) => [s.name, s]));
  const finish = new Map<string, number>();
  // Latest finish of a stage: its own bound after the latest of its needs (the plan has no cycle).
  const finishOf = (stage: PlannedStage, path: Set<string>): number => {
    const known = finish.get(stage.name);
    if (known !== undefined) return known;
    if (path.has(stage.name)) throw new Error(`the plan's needs form a cycle through ${stage.name}`);
    path.add(stage.name);
    const start = Math.max(0, ...stage.needs.map((n) => byName.get(n)).filter((s): s is PlannedStage => s !== undefined).map((s) => finishOf(s, path)));
    path.delete(stage.name);
    const end = start + stageBoundSeconds(stage);
    finish.set(stage.name, end);
    return end;
  };
  const longest = Math.max(0, ...plan.stages.map((s) => finishOf(s, new Set())));
  return Math.min(MAX_RESERVATION_SECONDS, longest + BUILD_SLACK_SECONDS);
}
