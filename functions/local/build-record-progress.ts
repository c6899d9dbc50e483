/**
 * How a build record follows its run: its stages from the plan, each stage's result as it
 * comes, then the build report, which is the truth once the run is over.
 */
import type { Plan } from '../domain/plan/types.js';
import type { StageResult } from '../domain/report/types.js';
import type { BuildRecord, StageProgress } from './build-record.js';
import type { BuildProgress } from './build-runner.js';
import type { LiveStageLogs } from './live-stage-logs.js';

/** What the record's changes are told as (the farm saves the record and tells the CLI and the dashboard). */
export type RecordChange =
  | { type: 'planned'; build: BuildRecord }
  | { type: 'stage-started' | 'stage-finished'; build: BuildRecord; stage: StageProgress };

/** The progress that keeps `record` (and the live logs) up to date as its build runs. */
export function recordingProgress(record: BuildRecord, liveLogs: LiveStageLogs, changed: (event: RecordChange) => void): BuildProgress {
  return {
    planned: (plan) => {
      record.plan = plan;
      record.stages = plannedStages(plan);
      changed({ type: 'planned', build: record });
    },
    stageStarted: (name, at) => {
      const stage = stageProgress(record, name);
      stage.status = 'running';
      stage.startedAt = at.toISOString();
      liveLogs.begin(record.id, name);
      changed({ type: 'stage-started', build: record, stage });
    },
    stageLog: (name, chunk) => liveLogs.append(record.id, name, chunk),
    stageFinished: (result) => {
      const stage = stageProgress(record, result.stage);
      applyResult(stage, result);
      liveLogs.end(record.id, result.stage);
      changed({ type: 'stage-finished', build: record, stage });
    },
  };
}

/** The plan's stages, all pending, as the dashboard first shows them. */
export function plannedStages(plan: Plan): StageProgress[] {
  return plan.stages.map((stage) => ({
    name: stage.name,
    wave: stage.wave,
    runner: stage.runner,
    reason: stage.reason,
    needs: stage.needs,
    lambda: stage.lambda,
    fargate: stage.runner === 'fargate' ? stage.fargate : undefined,
    status: 'pending',
    predictedCostUsd: stage.predictedCostUsd,
  }));
}

/** The record's stage `name`, added when the plan did not list it. */
export function stageProgress(record: BuildRecord, name: string): StageProgress {
  let stage = record.stages.find((s) => s.name === name);
  if (stage === undefined) {
    // A stage the plan did not list (the runner reported before planning): show it anyway.
    stage = { name, wave: 0, runner: 'lambda', reason: '', needs: [], status: 'pending', predictedCostUsd: 0 };
    record.stages.push(stage);
  }
  return stage;
}

export function applyResult(stage: StageProgress, result: StageResult): void {
  stage.status = result.status;
  stage.runner = result.runner;
  stage.startedAt = result.startedAt;
  stage.finishedAt = result.finishedAt;
  stage.durationMs = result.durationMs;
  stage.outcome = result.reason;
  stage.errorName = result.errorName;
}

/** After the run, the report is the truth: costs, escalations, final statuses. */
export function mergeReport(record: BuildRecord): void {
  for (const reported of record.report?.stages ?? []) {
    const stage = record.stages.find((s) => s.name === reported.name);
    const target: StageProgress = stage ?? {
      name: reported.name,
      wave: 0,
      runner: reported.runner,
      reason: '',
      needs: [],
      status: reported.status,
      predictedCostUsd: reported.predictedCostUsd,
    };
    target.status = reported.status;
    target.runner = reported.runner;
    target.outcome = reported.reason;
    target.errorName = reported.errorName;
    target.lambda = reported.lambda ?? target.lambda;
    target.fargate = reported.fargate ?? (reported.runner === 'fargate' ? target.fargate : undefined);
    target.startedAt = reported.startedAt ?? target.startedAt;
    target.finishedAt = reported.finishedAt ?? target.finishedAt;
    target.durationMs = reported.durationMs;
    target.costUsd = reported.costUsd;
    target.predictedCostUsd = reported.predictedCostUsd;
    target.escalated = reported.escalated;
    if (stage === undefined) record.stages.push(target);
  }
}
