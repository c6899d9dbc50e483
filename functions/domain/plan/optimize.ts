/**
 * What the planner optimises when a stage fits both runners: `cost`, `time` or `balanced`
 * (the default). A farm setting (`--optimize`, BUILDFARM_OPTIMIZE, template parameter Optimize)
 * that a pipeline file may override with a top-level `optimize:`.
 *
 * The policy, precisely (docs/cost.md, "Runner choice"):
 * - Wall time on Lambda is the stage's predicted duration plus LAMBDA_STARTUP_WAIT_MS; on Fargate
 *   it is the predicted duration plus FARGATE_STARTUP_WAIT_MS (the task's provisioning and image
 *   pull, which the stage waits through before its first command).
 * - `cost`: the runner with the lower predicted cost; a tie goes to Lambda.
 * - `time`: the runner with the shorter predicted wall time; a tie goes to the cheaper one.
 * - `balanced`: the cheaper runner, unless it is also the slower one and the wait it adds is worth
 *   more than it saves, pricing wall time at BALANCED_USD_PER_WAIT_SECOND: i.e. Fargate is chosen
 *   only when it saves at least $0.001 for every 2 s of extra waiting.
 */
import { InvalidFarmSetting, type SettingNames } from './farm-policy.js';
import type { Runner } from './types.js';

export const OPTIMIZE_GOALS = ['cost', 'time', 'balanced'] as const;
export type OptimizeGoal = (typeof OPTIMIZE_GOALS)[number];
export const DEFAULT_OPTIMIZE: OptimizeGoal = 'balanced';

export const OPTIMIZE_SETTING: SettingNames = { flag: '--optimize', env: 'BUILDFARM_OPTIMIZE', parameter: 'Optimize' };

/**
 * The wait before a Fargate stage's first command: provisioning (placement and the task's ENI,
 * typically 10 to 30 s and not billed) and the image pull, which is billed and which the cost model
 * puts at FARGATE_BILLED_STARTUP_MS (20 s). 40 s is a planning figure, not a measurement of this
 * account; https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html
 * lists the states a task passes (PROVISIONING, PENDING, ACTIVATING) before RUNNING.
 */
export const FARGATE_STARTUP_WAIT_MS = 40_000;

/**
 * The wait before a Lambda stage's first command: at worst a cold start of the runner function
 * (Node.js init, the agent's bundle), about a second.
 * https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html
 */
export const LAMBDA_STARTUP_WAIT_MS = 1_000;

/**
 * `balanced` prices a second of extra wall time at $0.0005: 2 s per $0.001 saved, $1.80 an hour.
 * Why this figure: a build is often waited on by a person, but not always; a person's hour costs
 * tens of dollars, so anything that prices waiting near zero (pure `cost`) moves short stages to
 * Fargate for fractions of a cent, which is the behaviour this policy exists to stop. At $1.80 an
 * hour the 40 s Fargate wait is worth $0.02: a stage moves to Fargate only once it saves more than
 * that, which happens for long or large stages (a 10-minute 4 GB stage saves about $0.03), never
 * for a 34 s stage (it saves $0.0003 at most). Choose `cost` to ignore waiting, `time` to never wait.
 */
export const BALANCED_USD_PER_WAIT_SECOND = 0.0005;

export interface RunnerOption {
  costUsd: number;
  /** Predicted wall time from the stage's start to its end, start-up included. */
  wallMs: number;
}

export interface GoalVerdict {
  runner: Runner;
  /** Why, in words, with the figures. */
  because: string;
}

const usd = (n: number): string => (n < 0.01 ? `$${n.toFixed(6)}` : `$${n.toFixed(4)}`);
const seconds = (ms: number): string => `${Math.round(ms / 1000)}s`;

/** Picks a runner for a stage that fits both, by the goal. */
export function pickByGoal(goal: OptimizeGoal, lambda: RunnerOption, fargate: RunnerOption): GoalVerdict {
  const figures = `Lambda ${usd(lambda.costUsd)} in ${seconds(lambda.wallMs)}, Fargate ${usd(fargate.costUsd)} in ${seconds(fargate.wallMs)} with start-up`;
  if (goal === 'cost') {
    return fargate.costUsd < lambda.costUsd ? { runner: 'fargate', because: `cheaper (optimize: cost; ${figures})` } : { runner: 'lambda', because: `cheaper or equal (optimize: cost; ${figures})` };
  }
  if (goal === 'time') {
    const fargateFirst = fargate.wallMs < lambda.wallMs || (fargate.wallMs === lambda.wallMs && fargate.costUsd < lambda.costUsd);
    return fargateFirst ? { runner: 'fargate', because: `sooner (optimize: time; ${figures})` } : { runner: 'lambda', because: `sooner (optimize: time; ${figures})` };
  }
  // balanced: each runner's cost plus its wall time priced at the rate; the lower wins, a tie to Lambda.
  const score = (o: RunnerOption): number => o.costUsd + (o.wallMs / 1000) * BALANCED_USD_PER_WAIT_SECOND;
  const saved = lambda.costUsd - fargate.costUsd;
  const waited = fargate.wallMs - lambda.wallMs;
  if (score(fargate) < score(lambda)) {
    return { runner: 'fargate', because: `saves ${usd(saved)} for ${seconds(Math.max(0, waited))} more wait (optimize: balanced; ${figures})` };
  }
  const why = saved > 0 ? `Fargate would save only ${usd(saved)} for ${seconds(waited)} more wait` : 'cheaper and sooner';
  return { runner: 'lambda', because: `${why} (optimize: balanced, $0.001 per 2s; ${figures})` };
}

export function parseOptimizeGoal(text: string, where: string): OptimizeGoal {
  const value = text.trim();
  if ((OPTIMIZE_GOALS as readonly string[]).includes(value)) return value as OptimizeGoal;
  throw new InvalidFarmSetting(`${where}: "${text}" is not an optimize goal; allowed: ${OPTIMIZE_GOALS.join(', ')}`);
}
