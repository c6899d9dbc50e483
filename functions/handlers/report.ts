/**
 * The `Report` task: always the last state, also after a caught error. Reads the plan and every
 * stage's records from S3, builds the report (domain/report/build-report.ts), stores it as
 * `report.json` and publishes it to the BuildReports topic with attributes a subscription can
 * filter on (`costUsd` is a Number: "cost over $1" works).
 */
import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../adapters/aws/sns-notifier.js';
import type { Plan, StageHistory } from '../domain/plan/types.js';
import { regionPrices, UnknownRegion } from '../domain/pricing/price-book.js';
import { buildReport } from '../domain/report/build-report.js';
import { pricedCostModel, type CostModel } from '../domain/report/cost-model.js';
import { nextHistory } from '../domain/report/history.js';
import { reportSummaryKey, stageRunKey } from '../domain/report/record-keys.js';
import { historyKey, manifestKey, reportKey, stageResultKey } from '../domain/storage-keys.js';
import { formatReportSummary } from '../domain/report/summary.js';
import type { StageRunRecord } from '../domain/report/run-record.js';
import type { ArtifactEntry, BuildReport, StageResult } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { Notifier } from '../ports/notifier.js';
import type { ReportTaskInput, ReportTaskOutput } from './build-state-machine.js';
import { causeMessage, readJson } from './schedule.js';
import { artifactStore, priceBook, region, requiredEnv } from './task-environment.js';

export interface ReportDeps {
  store: ArtifactStore;
  notifier: Notifier;
  costs: CostModel;
  now(): Date;
  /** Counted transitions, when the runner can count them (local); else the report estimates. */
  stateTransitions?(): number | undefined;
}

/** SNS takes 256 KiB per message with its attributes; a huge report is published as its summary. */
const MAX_MESSAGE_BYTES = 200 * 1024;

function manifestEntries(manifest: unknown): ArtifactEntry[] {
  const list = Array.isArray(manifest) ? manifest : (manifest as { artifacts?: unknown } | undefined)?.artifacts;
  return Array.isArray(list) ? (list as ArtifactEntry[]) : [];
}

async function readRecords(store: ArtifactStore, buildId: string, plan: Plan) {
  const results: StageResult[] = [];
  const runs: StageRunRecord[] = [];
  const manifests: Record<string, ArtifactEntry[]> = {};
  await Promise.all(
    plan.stages.map(async ({ name }) => {
      const [result, run, manifest] = await Promise.all([
        readJson<StageResult>(store, stageResultKey(buildId, name)),
        readJson<StageRunRecord>(store, stageRunKey(buildId, name)),
        readJson<unknown>(store, manifestKey(buildId, name)),
      ]);
      if (result) results.push(result);
      if (run) runs.push(run);
      manifests[name] = manifestEntries(manifest);
    }),
  );
  return { results, runs, manifests };
}

export function reportMessage(report: BuildReport): string {
  const full = JSON.stringify(report);
  if (Buffer.byteLength(full) <= MAX_MESSAGE_BYTES) return full;
  const { stages, ...summary } = report;
  return JSON.stringify({ ...summary, stages: stages.map(({ name, status, runner, costUsd }) => ({ name, status, runner, costUsd })), truncated: true });
}

/** Stage history for the planner's next prediction (one small object per stage). */
async function recordHistory(store: ArtifactStore, repository: string, report: BuildReport): Promise<void> {
  await Promise.all(
    report.stages.map(async (stage) => {
      const key = historyKey(repository, stage.name);
      const next = nextHistory(await readJson<StageHistory>(store, key), stage);
      if (next) await store.put(key, JSON.stringify(next), 'application/json');
    }),
  );
}

export async function reportTask(input: ReportTaskInput, deps: ReportDeps): Promise<ReportTaskOutput> {
  const { plan: slim, error } = input.state;
  const plan = slim?.build ? await readJson<Plan>(deps.store, slim.planKey) : undefined;
  const records = plan ? await readRecords(deps.store, input.buildId, plan) : { results: [], runs: [], manifests: {} };
  const report = buildReport({
    buildId: input.buildId,
    request: input.request,
    plan,
    ...records,
    error: error ? { name: error.Error, message: causeMessage(error) } : undefined,
    notTriggered: slim && !slim.build ? { reason: slim.reason } : undefined,
    startedAt: input.startedAt,
    finishedAt: deps.now().toISOString(),
    costs: deps.costs,
    stateTransitions: deps.stateTransitions?.(),
  });
  const key = reportKey(input.buildId);
  await deps.store.put(key, JSON.stringify(report, null, 2), 'application/json');
  await deps.store.put(reportSummaryKey(input.buildId), formatReportSummary(report), 'text/plain; charset=utf-8');
  await recordHistory(deps.store, input.request.repository, report);
  await deps.notifier.publish(reportMessage(report), {
    repository: report.repository,
    branch: input.request.branch,
    status: report.status,
    costUsd: report.totalCostUsd,
  });
  return { status: report.status, totalCostUsd: report.totalCostUsd, reportKey: key };
}

// ---- AWS wiring ---------------------------------------------------------------------------------

let awsDeps: ReportDeps | undefined;

/**
 * The prices of the function's region, or us-east-1's when the price book has none: a report
 * with approximate costs beats no report (the plan already failed loudly for the region).
 */
function costModelForRegion(): CostModel {
  const book = priceBook();
  try {
    return pricedCostModel(regionPrices(book, region()));
  } catch (error) {
    if (!(error instanceof UnknownRegion)) throw error;
    return pricedCostModel(regionPrices(book, 'us-east-1'));
  }
}

/** `BUILD_REPORTS_TOPIC_ARN` (required): the BuildReports topic. */
function depsFromEnvironment(): ReportDeps {
  return {
    store: artifactStore(),
    notifier: new SnsNotifier(new SNSClient({}), requiredEnv('BUILD_REPORTS_TOPIC_ARN')),
    costs: costModelForRegion(),
    now: () => new Date(),
  };
}

export async function handler(input: ReportTaskInput): Promise<ReportTaskOutput> {
  awsDeps ??= depsFromEnvironment();
  return reportTask(input, awsDeps);
}
