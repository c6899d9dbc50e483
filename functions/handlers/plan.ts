/**
 * The `Plan` task: snapshot the source into S3, read and plan `.buildfarm.yml`, store the full
 * plan and return only the waves' sizes, so the execution's payloads stay far below 256 KiB
 * whatever the pipeline's size (`Select stages` reads each wave's stages from the stored plan). An invalid pipeline file throws `PipelineInvalid`,
 * which the state machine catches into the report.
 */
import type { Readable } from 'node:stream';
import { PipelineInvalid } from '../domain/errors.js';
import type { Pipeline } from '../domain/pipeline/types.js';
import type { Plan, PlanContext, PlannerConfig, StageHistory } from '../domain/plan/types.js';
import { historyKey, planKey as planKeyOf, sourceKey } from '../domain/report/record-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SourceProvider } from '../ports/source-provider.js';
import type { PlanTaskInput, PlanTaskOutput } from './build-state-machine.js';
import { checkTriggers as defaultCheckTriggers, type TriggerDecision } from './plan-triggers.js';
import { readFileFromSnapshot } from './snapshot-file.js';

export const PIPELINE_FILE = '.buildfarm.yml';
/** A pipeline file is text a person writes; anything bigger is a mistake. */
const MAX_PIPELINE_FILE_BYTES = 1024 * 1024;

export interface PlanTaskDeps {
  store: ArtifactStore;
  source: SourceProvider;
  parsePipeline(text: string, file: string): Pipeline;
  planPipeline(pipeline: Pipeline, ctx: PlanContext, config: PlannerConfig, history?: Record<string, StageHistory>): Plan;
  config: PlannerConfig;
  checkTriggers?(pipeline: Pipeline, request: PlanTaskInput['request']): TriggerDecision;
}

export function parseConcurrency(text: string): number {
  const value = Number.parseInt(text, 10);
  // Map MaxConcurrency 0 means unbounded: never let a bad substitution mean that.
  return Number.isInteger(value) && value > 0 ? value : 1;
}

/** What the report recorded for each stage of earlier builds of the repository. */
async function loadHistory(store: ArtifactStore, repository: string, pipeline: Pipeline): Promise<Record<string, StageHistory>> {
  const history: Record<string, StageHistory> = {};
  await Promise.all(
    pipeline.stages.map(async ({ name }) => {
      const text = await store.getText(historyKey(repository, name));
      if (text !== undefined) history[name] = JSON.parse(text) as StageHistory;
    }),
  );
  return history;
}

async function readPipelineText(store: ArtifactStore, key: string): Promise<string> {
  const snapshot = await store.get(key);
  if (!snapshot) throw new Error(`source snapshot ${key} is missing`);
  const text = await readFileFromSnapshot(snapshot as Readable, PIPELINE_FILE, MAX_PIPELINE_FILE_BYTES);
  if (text === undefined) {
    throw new PipelineInvalid([{ file: PIPELINE_FILE, line: 1, column: 1, path: '', message: `no ${PIPELINE_FILE} at the root of the repository` }]);
  }
  return text;
}

export async function planTask(input: PlanTaskInput, deps: PlanTaskDeps): Promise<PlanTaskOutput> {
  const { buildId, request } = input;
  const snapshotKey = sourceKey(buildId);
  await deps.store.put(snapshotKey, await deps.source.snapshot({ repository: request.repository, sha: request.sha }), 'application/gzip');
  const pipeline = deps.parsePipeline(await readPipelineText(deps.store, snapshotKey), PIPELINE_FILE);
  const key = planKeyOf(buildId);
  const maxStageConcurrency = parseConcurrency(input.maxStageConcurrency);
  const decision = (deps.checkTriggers ?? defaultCheckTriggers)(pipeline, request);
  if (!decision.build) {
    return { planKey: key, build: false, reason: decision.reason, failFast: pipeline.failFast, maxStageConcurrency, waves: [] };
  }
  const history = await loadHistory(deps.store, request.repository, pipeline);
  const plan = deps.planPipeline(pipeline, { event: request.event, branch: request.branch }, deps.config, history);
  await deps.store.put(key, JSON.stringify(plan), 'application/json');
  return {
    planKey: key,
    build: true,
    reason: decision.reason,
    failFast: plan.failFast,
    maxStageConcurrency,
    waves: plan.waves.map((names, index) => ({ index, stageCount: names.length })),
  };
}
