/**
 * A stage's slice of the plan: the one PlannedStage its runner needs, stored on its own at Plan
 * time (`stagePlanKey`), so a stage's read does not grow with the pipeline. The whole plan of a
 * 1,000-stage pipeline is 4.7 MB, 2.1 MB of it the stages' transitive `upstream` lists; each
 * stage re-reading it made a build's plan reads O(N²) bytes.
 */
import { computeBatches, dependentsOf } from './batches.js';
import type { CacheScope } from '../cache/scope.js';
import type { Plan, PlannedStage } from './types.js';

export interface StagePlanSlice {
  version: 1;
  stage: PlannedStage;
  /** The stages that need this one directly: whom its end may release (handlers/stage-release.ts). */
  dependents: string[];
  /** The plan's cache scope, for a stage with a `cache` (domain/cache/scope.ts). */
  cacheScope?: CacheScope;
}

/**
 * One batch of the schedule (domain/plan/batches.ts) with its stages' plans: all `Select stages`
 * reads, so a batch's read does not grow with the pipeline either.
 */
export interface BatchPlanSlice {
  version: 1;
  index: number;
  /** The plan's `secretsWithheld`: the farm's fork policy decides the grants' secrets. */
  secretsWithheld: boolean;
  /** The plan's cache scope: the grants of stages with a `cache` name the caches they may read and write. */
  cacheScope?: CacheScope;
  stages: { stage: PlannedStage; waits: boolean; releases: boolean }[];
}

export class StageSliceInvalid extends Error {
  override readonly name = 'StageSliceInvalid';
}

export function stageSlices(plan: Pick<Plan, 'stages' | 'cacheScope'>): StagePlanSlice[] {
  const dependents = dependentsOf(plan.stages);
  return plan.stages.map((stage) => ({
    version: 1,
    stage,
    dependents: dependents.get(stage.name) ?? [],
    ...(plan.cacheScope && stage.cache ? { cacheScope: plan.cacheScope } : {}),
  }));
}

export function batchSlices(plan: Pick<Plan, 'stages' | 'waves' | 'secretsWithheld' | 'cacheScope'>, limit: number): BatchPlanSlice[] {
  const byName = new Map(plan.stages.map((stage) => [stage.name, stage]));
  return computeBatches(plan.waves, plan.stages, limit).map((batch, index) => ({
    version: 1,
    index,
    secretsWithheld: plan.secretsWithheld,
    ...(plan.cacheScope ? { cacheScope: plan.cacheScope } : {}),
    stages: batch.stages.map(({ name, waits, releases }) => ({ stage: byName.get(name)!, waits, releases })),
  }));
}

/** The slice in a slice's text; throws naming the key when it is not the slice of `stageName`. */
export function parseStageSlice(text: string, stageName: string, key: string): StagePlanSlice {
  let slice: Partial<StagePlanSlice> | null;
  try {
    slice = JSON.parse(text) as Partial<StagePlanSlice> | null;
  } catch (error) {
    throw new StageSliceInvalid(`${key} is not JSON: ${(error as Error).message}`);
  }
  if (slice?.version !== 1 || typeof slice.stage !== 'object' || slice.stage === null) {
    throw new StageSliceInvalid(`${key} is not a version 1 stage slice`);
  }
  if (slice.stage.name !== stageName) {
    throw new StageSliceInvalid(`${key} holds stage "${String(slice.stage.name)}", not "${stageName}"`);
  }
  const scope = slice.cacheScope;
  if (scope !== undefined && !isCacheScope(scope)) throw new StageSliceInvalid(`${key} holds a cacheScope that is not one the Plan step writes`);
  // The cache scope too: without it the runner of a stage with a `cache` neither restores nor saves.
  return { version: 1, stage: slice.stage, dependents: Array.isArray(slice.dependents) ? slice.dependents : [], ...(scope ? { cacheScope: scope } : {}) };
}

function isCacheScope(value: unknown): value is CacheScope {
  const scope = value as Partial<CacheScope> | null;
  return (
    typeof scope === 'object' && scope !== null &&
    typeof scope.repository === 'string' &&
    Array.isArray(scope.read) && scope.read.every((branch) => typeof branch === 'string') &&
    (scope.write === undefined || typeof scope.write === 'string')
  );
}

export function parseBatchSlice(text: string, index: number, key: string): BatchPlanSlice {
  const slice = JSON.parse(text) as Partial<BatchPlanSlice> | null;
  if (slice?.version !== 1 || slice.index !== index || !Array.isArray(slice.stages)) {
    throw new StageSliceInvalid(`${key} is not the version 1 slice of batch ${index}`);
  }
  return slice as BatchPlanSlice;
}
