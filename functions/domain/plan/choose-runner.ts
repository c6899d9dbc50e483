/**
 * Runner choice: a stage goes to Lambda only when everything about it fits
 * Lambda; otherwise to Fargate. Each decision carries its reason in words.
 */
import type { StageSpec } from '../pipeline/types.js';
import { formatMiB, formatSeconds } from '../pipeline/units.js';
import {
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_PLANNABLE_SECONDS,
  LAMBDA_MAX_VCPU,
  LAMBDA_RUNNER_TIERS_MB,
  LAMBDA_SAFETY_MARGIN_SECONDS,
  lambdaMemoryNeeded,
} from '../sizing/lambda-sizes.js';
import type { PlannerConfig, Runner, StageHistory } from './types.js';
import { predictedDurationMs } from './predict.js';
import { DEFAULT_OPTIMIZE, FARGATE_STARTUP_WAIT_MS, LAMBDA_STARTUP_WAIT_MS, pickByGoal, type OptimizeGoal } from './optimize.js';

export interface RunnerDecision {
  runner: Runner;
  reason: string;
}

/** Headroom over the measured peak disk, since workspaces grow. */
const DISK_HEADROOM = 1.2;

export { LAMBDA_PLANNABLE_SECONDS };


/** Every reason a stage cannot run on Lambda; empty when it can. */
export function lambdaMisfits(stage: StageSpec, config: PlannerConfig, history?: StageHistory): string[] {
  const misfits: string[] = [];
  const r = stage.resources;
  if (stage.image) misfits.push(`it sets image ${stage.image} (Lambda runs in its own runtime)`);
  if (stage.timeoutSeconds > LAMBDA_PLANNABLE_SECONDS) {
    misfits.push(`timeout ${formatSeconds(stage.timeoutSeconds)} is over the ${formatSeconds(LAMBDA_PLANNABLE_SECONDS)} a Lambda stage may run (15m less a ${LAMBDA_SAFETY_MARGIN_SECONDS}s margin)`);
  }
  const predicted = predictedDurationMs(history);
  if (predicted !== undefined && predicted / 1000 > LAMBDA_PLANNABLE_SECONDS) {
    misfits.push(`recent runs took up to ${formatSeconds(Math.ceil(predicted / 1000))}, over Lambda's 15m less a ${LAMBDA_SAFETY_MARGIN_SECONDS}s margin`);
  }
  if (r.diskMiB > config.lambdaEphemeralStorageMB) {
    misfits.push(`disk ${formatMiB(r.diskMiB)} is over the Lambda runner's /tmp (${config.lambdaEphemeralStorageMB} MB)`);
  } else if (history && history.peakDiskMiB * DISK_HEADROOM > config.lambdaEphemeralStorageMB) {
    misfits.push(`recent runs used ${formatMiB(Math.round(history.peakDiskMiB))} of disk, too close to the Lambda runner's /tmp (${config.lambdaEphemeralStorageMB} MB)`);
  }
  if (r.memoryMiB > LAMBDA_MAX_MEMORY_MB) misfits.push(`memory ${formatMiB(r.memoryMiB)} is over Lambda's ${LAMBDA_MAX_MEMORY_MB} MB`);
  if (r.cpu > LAMBDA_MAX_VCPU) misfits.push(`cpu ${r.cpu} vCPU is over Lambda's ${LAMBDA_MAX_VCPU} vCPU`);
  // Within Lambda's limits, but over the largest runner tier this farm deploys (LambdaRunnerMaxMemoryMB).
  const needed = lambdaMemoryNeeded(r.cpu, r.memoryMiB);
  const tiers = config.lambdaRunnerTiersMB ?? LAMBDA_RUNNER_TIERS_MB;
  const largest = Math.max(...tiers);
  if (r.memoryMiB <= LAMBDA_MAX_MEMORY_MB && r.cpu <= LAMBDA_MAX_VCPU && needed > largest) {
    misfits.push(`it needs ${needed} MB of Lambda memory (cpu ${r.cpu}, memory ${formatMiB(r.memoryMiB)}), over the largest Lambda runner this farm deploys (${largest} MB; raise LambdaRunnerMaxMemoryMB after a Lambda memory quota increase)`);
  }
  if (history?.escalated) misfits.push('it ran out of time or disk on Lambda last time');
  return misfits;
}

/** What the stage's measured duration would cost on each runner (only once there is history). */
export interface MeasuredCosts {
  durationMs: number;
  lambdaUsd: number;
  fargateUsd: number;
}

export function chooseRunner(
  stage: StageSpec,
  config: PlannerConfig,
  history?: StageHistory,
  measured?: MeasuredCosts,
  goal: OptimizeGoal = DEFAULT_OPTIMIZE,
): RunnerDecision {
  if (stage.runner === 'fargate') return { runner: 'fargate', reason: 'runner: fargate is set' };
  const misfits = lambdaMisfits(stage, config, history);
  if (stage.runner === 'lambda') {
    // Lint already rejected what can never fit Lambda; what depends on the farm's settings is a plan error.
    if (misfits.length > 0) return { runner: 'lambda', reason: `runner: lambda is set, but ${misfits.join('; ')}` };
    return { runner: 'lambda', reason: 'runner: lambda is set' };
  }
  if (misfits.length > 0) return { runner: 'fargate', reason: `Fargate: ${misfits.join('; ')}` };
  if (!measured) {
    // No history: the timeout is only an upper bound, so it cannot say which runner is cheaper.
    // The first run goes to Lambda (no task start-up wait) and measures the stage.
    return { runner: 'lambda', reason: `Lambda: no image, timeout ${formatSeconds(stage.timeoutSeconds)} and disk ${formatMiB(stage.resources.diskMiB)} fit; no history yet` };
  }
  // Lambda costs more per second than Fargate but has no one-minute minimum and no task start-up:
  // with a measured duration, the goal weighs the two (domain/plan/optimize.ts).
  const took = formatSeconds(Math.ceil(measured.durationMs / 1000));
  const verdict = pickByGoal(
    goal,
    { costUsd: measured.lambdaUsd, wallMs: measured.durationMs + LAMBDA_STARTUP_WAIT_MS },
    { costUsd: measured.fargateUsd, wallMs: measured.durationMs + FARGATE_STARTUP_WAIT_MS },
  );
  if (verdict.runner === 'fargate') return { runner: 'fargate', reason: `Fargate: fits Lambda, but at its recent ${took} Fargate is ${verdict.because}` };
  return { runner: 'lambda', reason: `Lambda: fits; at its recent ${took}, ${verdict.because}` };
}
