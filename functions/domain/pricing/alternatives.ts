/**
 * What the same stages would cost elsewhere: all on Fargate (what a farm without
 * Lambda would pay) and on CodeBuild per-minute pricing.
 */
import type { PlannedStage } from '../plan/types.js';
import { codeBuildCost } from './codebuild.js';
import { fargateCost } from './cost.js';
import type { RegionPrices } from './price-book.js';

export interface StageDuration {
  stage: Pick<PlannedStage, 'fargate'>;
  durationMs: number;
}

/** Every stage at its Fargate size, on demand. */
export function allFargateCostUsd(stages: StageDuration[], prices: RegionPrices): number {
  return stages.reduce((sum, { stage, durationMs }) => sum + fargateCost({ ...stage.fargate, spot: false }, durationMs, prices).costUsd, 0);
}

/** Every stage on the smallest CodeBuild type that covers its Fargate size. */
export function codeBuildCostUsd(stages: StageDuration[]): number {
  return stages.reduce((sum, { stage, durationMs }) => sum + codeBuildCost(stage.fargate.cpu / 1024, stage.fargate.memory, durationMs).costUsd, 0);
}
