/**
 * The build record `buildfarm run` leaves in the data directory's build store (`DATA/builds/ID.json`),
 * the same record `buildfarm serve` keeps for its own builds, so serve's dashboard on the same data
 * directory lists it, with its stages, logs and report. Written once, finished: a record left
 * `running` would be marked interrupted by the next serve, which re-runs interrupted builds.
 */
import type { BuildRequest } from '../domain/build-request.js';
import type { Plan } from '../domain/plan/types.js';
import type { BuildReport } from '../domain/report/types.js';
import type { BuildRecord, StageProgress } from './build-record.js';

export interface FinishedBuild {
  id: string;
  request: BuildRequest;
  queuedAt: string;
  plan?: Plan;
  report: BuildReport;
}

export function finishedBuildRecord(build: FinishedBuild): BuildRecord {
  const planned = new Map((build.plan?.stages ?? []).map((stage) => [stage.name, stage]));
  const stages: StageProgress[] = build.report.stages.map((reported) => {
    const plan = planned.get(reported.name);
    return {
      name: reported.name,
      wave: plan?.wave ?? 0,
      runner: reported.runner,
      reason: plan?.reason ?? '',
      outcome: reported.reason,
      errorName: reported.errorName,
      needs: plan?.needs ?? [],
      lambda: reported.lambda ?? plan?.lambda,
      fargate: reported.fargate ?? (reported.runner === 'fargate' ? plan?.fargate : undefined),
      status: reported.status,
      startedAt: reported.startedAt,
      finishedAt: reported.finishedAt,
      durationMs: reported.durationMs,
      predictedCostUsd: reported.predictedCostUsd,
      costUsd: reported.costUsd,
      escalated: reported.escalated,
    };
  });
  return {
    id: build.id,
    request: build.request,
    state: build.report.status,
    queuedAt: build.queuedAt,
    startedAt: build.report.startedAt,
    finishedAt: build.report.finishedAt,
    ...(build.plan ? { plan: build.plan } : {}),
    stages,
    report: build.report,
  };
}
