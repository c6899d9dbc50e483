/**
 * A stage's slice of the plan: the one PlannedStage its runner needs, stored on its own at Plan
 * time (`stagePlanKey`), so a stage's read does not grow with the pipeline. The whole plan of a
 * 1,000-stage pipeline is 4.7 MB, 2.1 MB of it the stages' transitive `upstream` lists; each
 * stage re-reading it made a build's plan reads O(N²) bytes.
 */
import type { Plan, PlannedStage } from './types.js';

export interface StagePlanSlice {
  version: 1;
  stage: PlannedStage;
}

export class StageSliceInvalid extends Error {
  override readonly name = 'StageSliceInvalid';
}

export function stageSlices(plan: Pick<Plan, 'stages'>): StagePlanSlice[] {
  return plan.stages.map((stage) => ({ version: 1, stage }));
}

/** The stage in a slice's text; throws naming the key when it is not the slice of `stageName`. */
export function parseStageSlice(text: string, stageName: string, key: string): PlannedStage {
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
  return slice.stage;
}
