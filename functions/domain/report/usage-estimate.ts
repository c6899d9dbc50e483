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
import type { StageResult } from './types.js';

/** The error a stage's `Wait for needs` fails with when it is skipped (handlers/stage-release.ts). */
export const NEEDS_NOT_MET = 'NeedsNotMet';

export interface UsageStage {
  name: string;
  /** Direct needs (what `Wait for needs` and `Select stages` read). */
  needs: string[];
  /** The stages whose artifacts the agent downloads (domain/plan/artifact-sources.ts). */
  artifactsFrom: string[];
  /** Its batch (domain/plan/batches.ts) made it wait for needs, or release dependents. */
  waits: boolean;
  releases: boolean;
  result?: StageResult;
  run?: StageRunRecord;
  /** Skipped by `Select stages` (a result record written, no runner started). */
  skippedBySelection: boolean;
}

export interface UsageInput {
  planned: boolean;
  /** Stage names by batch, as the `Run batches` Map iterated over them. */
  batches: string[][];
  /** Stages of the pipeline file that `if:` left out (the plan still read their history). */
  skippedByIf: number;
  stages: UsageStage[];
}

/** States entered by one stage's iteration of `Run stages`. */
export function stageTransitions(stage: UsageStage): number {
  if (!stage.result) return 0;
  if (stage.result.status === 'skipped') {
    // Skipped by its own wait: Choose runner + Wait for needs + Stage skipped; by Select stages: none.
    return stage.result.errorName === NEEDS_NOT_MET ? 3 : 0;
  }
  const wait = stage.waits ? 1 : 0;
  return wait + pathTransitions(stage);
}

function pathTransitions(stage: UsageStage): number {
  const run = stage.run;
  if (!run) return stage.releases ? 3 : 2; // Choose runner + Run on Lambda (+ Release dependents)
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
  const batches = 1 + input.batches.length * 2; // Run batches + (Select stages + Run stages) per batch
  return planAndReport + batches + input.stages.reduce((sum, stage) => sum + stageTransitions(stage), 0);
}

/**
 * `Select stages` and the callback tasks, per the key layout: per batch, GET its slice and the
 * failure record, and the results of its needs outside it; a waiting stage PUTs its token, GETs
 * it back, its slice and its needs' results, once and again per release (about once per need in
 * its batch), and PUTs when it settles; `Release dependents` GETs the result and the slice.
 */
export function schedulingRequests(input: UsageInput): S3RequestCount {
  const count = { put: 0, get: 0 };
  const batchOf = new Map(input.batches.flatMap((names, index) => names.map((name) => [name, index] as const)));
  for (const names of input.batches) {
    const inBatch = new Set(names);
    const outside = new Set(input.stages.filter((s) => inBatch.has(s.name)).flatMap((s) => s.needs.filter((need) => !inBatch.has(need))));
    count.get += 2 + outside.size;
  }
  for (const stage of input.stages) {
    if (stage.waits) {
      const looks = 1 + stage.needs.filter((need) => batchOf.get(need) === batchOf.get(stage.name)).length;
      count.put += 2;
      count.get += looks * (2 + stage.needs.length);
    }
    if (stage.releases) count.get += 2;
  }
  return count;
}

/**
 * S3 requests by the plan, schedule, stage and report tasks, per the key layout in
 * `../storage-keys.ts` and `record-keys.ts`. Multipart uploads count as one request here.
 */
export function estimateS3Requests(input: UsageInput): S3RequestCount {
  const count = { put: 2, get: 1 }; // Plan: PUT source + PUT plan, GET source to read the pipeline file
  if (!input.planned) return count;
  // Plan: GET each stage's history; PUT each stage's and each batch's slice.
  count.get += input.stages.length + input.skippedByIf;
  count.put += input.stages.length + input.batches.length;
  const artifactsOf = new Map(input.stages.map((s) => [s.name, s.result?.artifactCount ?? 0]));
  const scheduling = schedulingRequests(input);
  count.get += scheduling.get;
  count.put += scheduling.put;
  for (const stage of input.stages) {
    if (stage.skippedBySelection) {
      count.put += 1; // the skipped result record
      continue;
    }
    if (!stage.result) continue;
    // Stage agent: GET its plan slice and source, then per artifact source its manifest and (when it stored
    // any) its archive; PUT log, manifest, result, and the archive when there are artifacts.
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

/**
 * The S3 requests of the tasks that do not report a count, from what their code does (their
 * paths are fixed): `Select stages` and the callback tasks (schedulingRequests), a record per
 * stage Select stages skipped and a grant per stage it runs; `StageCredentials` reads the grant and
 * the stage's result once per session (a Lambda invocation opens one, a Fargate task two: fetch
 * and publish). A miss answered 403 (no s3:ListBucket) costs a LIST more, which this leaves out.
 */
export function modelledControlPlaneRequests(input: UsageInput): S3RequestCount {
  if (!input.planned) return { put: 0, get: 0 };
  const count = schedulingRequests(input);
  for (const stage of input.stages) {
    if (stage.skippedBySelection) {
      count.put += 1;
      continue;
    }
    if (!stage.result) continue;
    count.put += 1; // the grant
    const onFargate = (stage.run?.runner ?? stage.result.runner) === 'fargate';
    const sessions = (onFargate ? 2 : 1) + (stage.run?.escalation ? 1 : 0) + (stage.run?.fargate?.spotInterruption ? 2 : 0);
    count.get += 2 * sessions;
  }
  return count;
}
