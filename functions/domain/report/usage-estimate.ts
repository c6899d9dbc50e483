/**
 * Orchestration and storage usage of a build, estimated from what it did. Step Functions bills
 * every state entered (retries included, https://aws.amazon.com/step-functions/pricing/), but a
 * running execution cannot read its own history cheaply, so the report counts the states each
 * stage's path through `statemachines/build.asl.json` enters. Retries of throttled or
 * capacity-starved calls are not visible in the records and are not counted. The local runner
 * counts the interpreter's real events, and the tests hold this estimate to that count.
 */
import type { S3RequestCount } from './cost-model.js';
import { CAPACITY_ERRORS, type StageRunRecord } from './run-record.js';
import { resultsToRead } from './stage-selection.js';
import type { StageResult } from './types.js';

export interface UsageStage {
  name: string;
  /** Direct needs (Select stages reads their results). */
  needs: string[];
  /** The stages whose artifacts the agent downloads (domain/plan/artifact-sources.ts). */
  artifactsFrom: string[];
  result?: StageResult;
  run?: StageRunRecord;
  /** Skipped by `Select stages` (a result record written, no runner started). */
  skippedBySelection: boolean;
}

export interface UsageInput {
  planned: boolean;
  /** Stage names by wave, as the `Run waves` Map iterated over them. */
  waves: string[][];
  /** Stages of the pipeline file that `if:` left out (the plan still read their history). */
  skippedByIf: number;
  /** Fail-fast builds' Select stages reads every earlier result, not only the needs. */
  failFast?: boolean;
  stages: UsageStage[];
}

/** States entered by one stage's iteration of `Run stages`. */
export function stageTransitions(stage: UsageStage): number {
  if (stage.skippedBySelection || !stage.result) return 0;
  const run = stage.run;
  if (!run) return 2; // Choose runner + Run on Lambda
  if (run.runner === 'lambda') return 3; // ... + Record stage error
  let count = 1; // Choose runner
  if (run.escalation) count += 1; // Run on Lambda, caught into the Fargate path
  count += 1; // Prepare Fargate task
  if (run.error?.at === 'prepare' || !run.fargate) return count + 1; // Record stage error
  count += 1; // Run Fargate task
  if (run.fargate.spotInterruption) {
    // Record Fargate result + Interrupted on Spot? + Clear the interrupted task + Fall back to on-demand + Run Fargate task again
    count += 5;
  } else if (run.fargate.spotFallback) {
    // Spot capacity? + Fall back to on-demand + Run Fargate task again
    count += 3;
  }
  // Spot capacity? once more, on the way to Record stage error
  if (run.error && CAPACITY_ERRORS.includes(run.error.name)) count += 1;
  if (run.error) return count + 1; // Record stage error
  return count + 3; // Record Fargate result + Interrupted on Spot? + Stage recorded
}

export function estimateStateTransitions(input: UsageInput): number {
  const planAndReport = 2;
  if (!input.planned) return planAndReport;
  const waves = 1 + input.waves.length * 2; // Run waves + (Select stages + Run stages) per wave
  return planAndReport + waves + input.stages.reduce((sum, stage) => sum + stageTransitions(stage), 0);
}

/**
 * S3 requests by the plan, schedule, stage and report tasks, per the key layout in
 * `../storage-keys.ts` and `record-keys.ts`. Multipart uploads count as one request here.
 */
export function estimateS3Requests(input: UsageInput): S3RequestCount {
  const count = { put: 2, get: 1 }; // Plan: PUT source + PUT plan, GET source to read the pipeline file
  if (!input.planned) return count;
  // Plan: GET each stage's history.
  count.get += input.stages.length + input.skippedByIf;
  const artifactsOf = new Map(input.stages.map((s) => [s.name, s.result?.artifactCount ?? 0]));
  // Select stages: per wave, GET plan + GET the results it needs (stage-selection.ts resultsToRead).
  for (const [index] of input.waves.entries()) {
    count.get += 1 + resultsToRead({ waves: input.waves, stages: input.stages }, index, input.failFast ?? false).length;
  }
  for (const stage of input.stages) {
    if (stage.skippedBySelection) {
      count.put += 1; // the skipped result record
      continue;
    }
    if (!stage.result) continue;
    // Stage agent: GET plan and source, then per artifact source its manifest and (when it stored any) its
    // archive; PUT log, manifest, result, and the archive when there are artifacts.
    count.get += 2 + stage.artifactsFrom.reduce((n, source) => n + 1 + ((artifactsOf.get(source) ?? 0) > 0 ? 1 : 0), 0);
    count.put += 3 + (stage.result.artifactCount > 0 ? 1 : 0);
    // Record Fargate result / Record stage error: GET result, PUT run record.
    if (stage.run) {
      count.get += 1;
      count.put += 1;
    }
  }
  // Report: GET plan, and result, run record, manifest and history of each stage; PUT report,
  // and PUT the history of each stage that succeeded or escalated.
  count.get += 1 + input.stages.length * 4;
  count.put += 1 + input.stages.filter((s) => s.result?.status === 'succeeded' || s.run?.escalation).length;
  return count;
}
