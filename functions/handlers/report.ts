/**
 * The `Report` task: always the last state, also after a caught error. Reads the plan and every
 * stage's records from S3, builds the report (domain/report/build-report.ts) and hands it to
 * `publishReport` (domain/report/publish-report.ts), which stores report.json and report.txt,
 * publishes the cost report to the BuildReports topic (attributes a subscription can filter on:
 * `costUsd` is a Number, so "cost over $1" works), posts the GitHub commit statuses when a token
 * is configured, and records each stage that ran in its history for the planner.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../adapters/aws/sns-notifier.js';
import { S3HistoryStore } from '../adapters/s3-history-store.js';
import { S3SpendLedger } from '../adapters/s3-spend-ledger.js';
import { s3ObjectRemover } from '../adapters/aws/s3-object-remover.js';
import type { SpendLedger } from '../ports/spend-ledger.js';
import { settleSpend } from './record-spend.js';
import { comparePullRequestCost, prThresholdFromEnvironment, recordBranchCost } from './pr-cost-check.js';
import type { Plan } from '../domain/plan/types.js';
import { pricingRegion, regionPrices, type RegionPrices } from '../domain/pricing/price-book.js';
import { rightSizeReport } from '../domain/sizing/right-size-report.js';
import { buildReport } from '../domain/report/build-report.js';
import { addRequests, pricedCostModel, requestsSince, type CostModel, type S3RequestCount } from '../domain/report/cost-model.js';
import { publishRequests } from '../domain/report/publish-requests.js';
import type { NetworkSetting } from '../domain/report/stage-cost.js';
import { priceBookInfo } from '../domain/pricing/price-book.js';
import { publishReport, type ReportLogger } from '../domain/report/publish-report.js';
import { stageRunKey } from '../domain/report/record-keys.js';
import { manifestKey, stageResultKey } from '../domain/storage-keys.js';
import type { StageRunRecord } from '../domain/report/run-record.js';
import type { ArtifactEntry, StageResult } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { CommitStatusPort } from '../ports/commit-status.js';
import type { HistoryStore } from '../ports/history-store.js';
import type { Notifier } from '../ports/notifier.js';
import { isExecutionStatusChange, type ExecutionStatusChangeEvent } from '../domain/report/execution-end.js';
import type { ReportTaskInput, ReportTaskOutput } from './build-state-machine.js';
import { reportExecutionEnd } from './report-execution-end.js';
import { causeMessage, readJson } from './stage-records.js';
import { commitStatusesFromEnvironment } from './commit-status-environment.js';
import { artifactClient, artifactStore, priceBook, region, requiredEnv, s3RequestCounter } from './task-environment.js';

export interface ReportDeps {
  store: ArtifactStore;
  notifier: Notifier;
  costs: CostModel;
  now(): Date;
  /** The region the build ran in: the console URL's region. */
  region: string;
  /** Whether Fargate tasks have public IPv4 addresses (default yes: the template's own VPC). */
  network?: NetworkSetting;
  /** Counted transitions, when the runner can count them (local); else the report estimates. */
  stateTransitions?(): number | undefined;
  /** Stage history for the planner; `S3HistoryStore` over `store` when absent. */
  history?: HistoryStore;
  /** The spend ledger the budgets are checked against; `S3SpendLedger` over `store` when absent. */
  spend?: SpendLedger;
  /** The region's prices, for right-sizing recommendations; none are made when absent. */
  prices?: RegionPrices;
  /** The farm's pull request cost threshold (a pipeline's `cost: pr-threshold` wins); absent: the status never fails. */
  prCostThresholdPercent?: number;
  /** Absent when no GitHub token is configured: no commit statuses are posted. */
  statuses?: CommitStatusPort;
  /**
   * The build's page for statuses, the message and report.txt; the execution's Step Functions
   * console page when absent (the local farm passes its dashboard).
   */
  link?(buildId: string): string;
  logger?: ReportLogger;
  /** The S3 requests `store`'s client has made so far: the report bills its own and the Plan's. */
  s3Requests?: () => S3RequestCount;
}

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

/**
 * The Plan task's requests (in the plan) and this task's: counted so far, plus what publishing
 * will make. Undefined when either was not counted (the report then estimates).
 */
function controlPlaneRequests(deps: ReportDeps, before: S3RequestCount | undefined, plan: Plan | undefined, results: StageResult[], recordHistory: boolean): S3RequestCount | undefined {
  if (!before || !deps.s3Requests || !plan?.s3Requests) return undefined;
  const pending = publishRequests(results.map((r) => r.status), recordHistory);
  return addRequests(requestsSince(before, deps.s3Requests(), pending), plan.s3Requests);
}

export async function reportTask(input: ReportTaskInput, deps: ReportDeps): Promise<ReportTaskOutput> {
  const { plan: slim, error, request } = input.state;
  // A refused build ran nothing, and may have no plan object: its prediction comes with the
  // Plan output instead (reading a missing key without s3:ListBucket is a 403, not a miss).
  const refused = slim?.refused === true;
  const before = deps.s3Requests?.();
  const plan = slim?.build ? await readJson<Plan>(deps.store, slim.planKey) : undefined;
  const records = plan ? await readRecords(deps.store, input.buildId, plan) : { results: [], runs: [], manifests: {} };
  const report = buildReport({
    buildId: input.buildId,
    request,
    plan,
    ...records,
    error: error ? { name: error.Error, message: causeMessage(error) } : undefined,
    notTriggered: slim && !slim.build && !refused ? { reason: slim.reason } : undefined,
    refused: refused ? { reason: slim!.reason, predictedCostUsd: slim!.predictedCostUsd ?? 0 } : undefined,
    startedAt: input.startedAt,
    finishedAt: deps.now().toISOString(),
    costs: deps.costs,
    stateTransitions: deps.stateTransitions?.(),
    s3Requests: controlPlaneRequests(deps, before, plan, records.results, !request.fromFork),
    network: deps.network,
    ...(slim?.maxStageConcurrency ? { batchLimit: Math.min(slim.maxStageConcurrency, 40) } : {}),
  });
  const base = await comparePullRequestCost(report, request, plan, deps);
  if (base) report.prCost = base;
  const sizing = plan && deps.prices ? rightSizeReport(report, plan, deps.prices) : [];
  if (sizing.length > 0) report.rightSizing = sizing;
  const published = await publishReport(report, {
    store: deps.store,
    notifier: deps.notifier,
    statuses: deps.statuses,
    history: deps.history ?? new S3HistoryStore(deps.store),
    // A fork's runs never teach the planner: it could make the next builds of main look costly enough to refuse.
    recordHistory: !request.fromFork,
    executionArn: input.executionArn,
    region: deps.region,
    branch: request.branch,
    link: deps.link?.(input.buildId),
    logger: deps.logger,
    // The budget reservation settled and the branch's cost recorded: objects of their own, each
    // catching its own failure, so beside the statuses and histories (every build waits for this step).
    alsoOncePublished: () =>
      Promise.all([
        settleSpend(report, plan?.budgetReservation, deps.spend ?? new S3SpendLedger(deps.store), deps.logger),
        recordBranchCost(report, request, deps.store, deps.logger),
      ]),
  });
  return { status: report.status, totalCostUsd: report.totalCostUsd, reportKey: published.reportKey };
}

// ---- AWS wiring ---------------------------------------------------------------------------------

let awsDeps: Omit<ReportDeps, 'statuses'> | undefined;

/** The prices of the function's region, or us-east-1's when the price book has none (PricesJson adds regions). */
function costModelForRegion(): CostModel {
  const book = priceBook();
  return pricedCostModel(regionPrices(book, pricingRegion(book, region()).region), priceBookInfo(book, region()), book.githubHosted);
}

/** `BUILD_REPORTS_TOPIC_ARN` (required): the BuildReports topic. */
function depsFromEnvironment(): Omit<ReportDeps, 'statuses'> {
  const store = artifactStore();
  return {
    store,
    notifier: new SnsNotifier(new SNSClient({}), requiredEnv('BUILD_REPORTS_TOPIC_ARN')),
    costs: costModelForRegion(),
    s3Requests: () => s3RequestCounter().snapshot(),
    // template.yaml passes the tasks' AssignPublicIp (ENABLED for the VPC it creates).
    network: { publicIpv4PerTask: (process.env.TASKS_ASSIGN_PUBLIC_IP ?? 'ENABLED') === 'ENABLED' },
    prices: regionPrices(priceBook(), pricingRegion(priceBook(), region()).region),
    now: () => new Date(),
    region: region(),
    history: new S3HistoryStore(store),
    spend: new S3SpendLedger(store, s3ObjectRemover(artifactClient(), requiredEnv('ARTIFACT_BUCKET'))),
    logger: new Logger({ serviceName: 'buildfarm-report' }),
    ...prThresholdFromEnvironment(process.env),
  };
}

/**
 * Two callers: the Report state (a ReportTaskInput) and the EventBridge rule on executions that
 * ended without it (an "Step Functions Execution Status Change" event).
 */
export async function handler(input: ReportTaskInput | ExecutionStatusChangeEvent): Promise<ReportTaskOutput> {
  awsDeps ??= depsFromEnvironment();
  const deps = { ...awsDeps, statuses: await commitStatusesFromEnvironment() };
  if (isExecutionStatusChange(input)) {
    return reportExecutionEnd(input, deps);
  }
  return reportTask(input, deps);
}
