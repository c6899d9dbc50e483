/**
 * The one way a stage's runner (Lambda runner, Fargate helper, fargate-prepare, the local
 * executors) reads its planned stage: its slice of the plan (domain/plan/stage-slice.ts), a
 * constant-size read whatever the pipeline's size. A build planned before slices existed (in
 * flight during an upgrade) has none: then the whole plan is read, as before.
 */
import { parseStageSlice, stageSlices, type StagePlanSlice } from '../domain/plan/stage-slice.js';
import type { Plan, PlannedStage } from '../domain/plan/types.js';
import { stagePlanKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { PlanMissing, StageNotInPlan } from './errors.js';

/** Throws PlanMissing or StageNotInPlan, naming the key; StageSliceInvalid for a slice that is not the stage's. */
export async function readStageSlice(store: Pick<ArtifactStore, 'getText'>, planKey: string, stageName: string): Promise<StagePlanSlice> {
  const sliceKey = stagePlanKey(planKey, stageName);
  const slice = await store.getText(sliceKey);
  if (slice !== undefined) return parseStageSlice(slice, stageName, sliceKey);
  const text = await store.getText(planKey);
  if (text === undefined) throw new PlanMissing(`no plan at ${planKey}`);
  const plan = JSON.parse(text) as Plan;
  const stage = plan.stages?.find((candidate) => candidate.name === stageName);
  if (!stage) throw new StageNotInPlan(`stage "${stageName}" is not in ${planKey}`);
  return stageSlices(plan).find((candidate) => candidate.stage.name === stageName)!;
}

/** The stage's plan, as its runner reads it (see readStageSlice). */
export async function readPlannedStage(store: Pick<ArtifactStore, 'getText'>, planKey: string, stageName: string): Promise<PlannedStage> {
  return (await readStageSlice(store, planKey, stageName)).stage;
}
