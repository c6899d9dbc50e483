/**
 * The build report: each stage's outcome and actual cost, totals including orchestration and
 * storage requests, and the comparison with the plan's prediction and with running everything
 * on Fargate. Pure: records, prices and times come in as arguments.
 */
import { statusForError } from './execution-end.js';
import type { BuildRequest } from '../build-request.js';
import type { Plan, PlannedStage } from '../plan/types.js';
import { roundUsd } from './billing.js';
import { costBreakdown, costLine, sumLines, type CostLine } from './cost-breakdown.js';
import { allFargateCost, githubHostedCost, predictedCost, type RanStage } from './cost-comparison.js';
import type { CostModel, S3RequestCount } from './cost-model.js';
import { stageCostLines, type NetworkSetting } from './stage-cost.js';
import type { StageRunRecord } from './run-record.js';
import type { ArtifactEntry, BuildReport, BuildStatus, StageReport, StageResult } from './types.js';
import { artifactSources } from '../plan/artifact-sources.js';
import { computeBatches } from '../plan/batches.js';
import { estimateS3Requests, estimateStateTransitions, modelledControlPlaneRequests, type UsageStage } from './usage-estimate.js';
import { parseCpuUsage } from '../sizing/cpu-usage.js';

export interface BuildReportInput {
  buildId: string;
  request: Pick<BuildRequest, 'repository' | 'ref' | 'sha'>;
  /** Absent when the build could not be planned. */
  plan?: Plan;
  results: StageResult[];
  runs: StageRunRecord[];
  /** Artifact manifests by stage name. */
  manifests: Record<string, ArtifactEntry[]>;
  /** Why the build could not be planned or run. */
  error?: { name: string; message: string };
  /** The pipeline's triggers did not match: nothing was meant to run. */
  notTriggered?: { reason: string };
  /**
   * The farm would not run the build (fork policy, cost limit), with the plan's prediction (0
   * when it was refused before planning). No stage is listed: a skipped stage would post a green
   * commit status for code nothing ran.
   */
  refused?: { reason: string; predictedCostUsd: number };
  startedAt: string;
  finishedAt: string;
  costs: CostModel;
  /** The stage concurrency the batches were made with (the Plan output's, at most 40); default 10. */
  batchLimit?: number;
  /** Counted state transitions when known (local runs); else estimated from the records. */
  stateTransitions?: number;
  /**
   * S3 requests the control plane counted outside the stage records (Plan, Select stages, this
   * Report). With it, and a count in every stage's records, S3 is billed as counted; else estimated.
   */
  s3Requests?: S3RequestCount;
  /** Whether Fargate tasks get a public IPv4 address (default: yes, as in the template's VPC). */
  network?: NetworkSetting;
}

export { lambdaAttemptMs } from './stage-cost.js';

function addCounts(a: S3RequestCount, b: S3RequestCount | undefined): S3RequestCount {
  return b ? { put: a.put + b.put, get: a.get + b.get } : a;
}

interface StageOutcome {
  report: StageReport;
  lines: CostLine[];
  ran?: RanStage;
}

const MS_LINES: ReadonlySet<CostLine['item']> = new Set(['lambda', 'lambdaInit', 'fargate', 'fargateSpotInterrupted']);

function stageReport(planned: PlannedStage, result: StageResult | undefined, run: StageRunRecord | undefined, manifests: Record<string, ArtifactEntry[]>, costs: CostModel, network: NetworkSetting, notRunReason: string): StageOutcome {
  const sizes = { lambda: planned.lambda, fargate: planned.fargate };
  if (!result || result.status === 'skipped') {
    return {
      report: {
        name: planned.name,
        status: 'skipped',
        runner: planned.runner,
        ...sizes,
        durationMs: 0,
        billedDurationMs: 0,
        costUsd: 0,
        predictedCostUsd: planned.predictedCostUsd,
        exitCode: null,
        reason: result?.reason ?? notRunReason,
        escalated: false,
        artifacts: [],
      },
      lines: [],
    };
  }
  const lines = stageCostLines(planned, result, run, costs, network);
  const cost = {
    // The final run's billed time (the escalated attempt is in the cost and in its own lines).
    billedDurationMs: lines.filter((l) => MS_LINES.has(l.item) && !l.escalatedAttempt).reduce((sum, l) => sum + l.quantity, 0),
    costUsd: sumLines(lines),
  };
  const onFargate = lines.filter((l) => l.item === 'fargate' || l.item === 'fargateSpotInterrupted' || l.item === 'publicIpv4');
  const runner = run?.runner ?? result.runner;
  const notes: string[] = [result.reason];
  if (run?.escalation) notes.push(`escalated from Lambda after ${run.escalation.errorName}: ${run.escalation.reason}`);
  if (run?.fargate?.spotInterruption) notes.push('Fargate Spot interrupted the task: ran again on on-demand Fargate');
  else if (run?.fargate?.spotFallback) notes.push('Fargate Spot had no capacity: ran on on-demand Fargate');
  return {
    report: {
      name: planned.name,
      status: result.status,
      runner,
      lambda: runner === 'lambda' ? planned.lambda : undefined,
      fargate: runner === 'fargate' ? { ...planned.fargate, spot: run?.fargate ? run.fargate.capacityProvider === 'FARGATE_SPOT' : planned.fargate.spot } : undefined,
      durationMs: result.durationMs,
      billedDurationMs: cost.billedDurationMs,
      costUsd: cost.costUsd,
      predictedCostUsd: planned.predictedCostUsd,
      exitCode: result.exitCode,
      errorName: result.errorName,
      reason: notes.filter((n) => n.length > 0).join('; '),
      escalated: Boolean(run?.escalation),
      artifacts: manifests[planned.name] ?? [],
      logKey: result.logKey,
      peakMemoryMiB: result.peakMemoryMiB,
      peakDiskMiB: result.peakDiskMiB,
      // The record is the stage runner's: a stage could at most have forged its own figure.
      ...(parseCpuUsage(result.cpuUsage) ? { cpuUsage: parseCpuUsage(result.cpuUsage)! } : {}),
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      ...(planned.historyId ? { historyId: planned.historyId } : {}),
      ...(result.cache ? { cache: result.cache } : {}),
      ...(result.phases ? { phases: result.phases } : {}),
    },
    lines,
    ran: {
      planned,
      result,
      run,
      fargate: {
        billedMs: onFargate.filter((l) => l.item === 'fargate').reduce((sum, l) => sum + l.quantity, 0),
        ipv4Usd: sumLines(onFargate.filter((l) => l.item === 'publicIpv4')),
      },
    },
  };
}

function skippedByIf(name: string, reason: string): StageReport {
  return {
    name,
    status: 'skipped',
    runner: 'lambda',
    durationMs: 0,
    billedDurationMs: 0,
    costUsd: 0,
    predictedCostUsd: 0,
    exitCode: null,
    reason,
    escalated: false,
    artifacts: [],
  };
}

function buildStatus(input: BuildReportInput, stages: StageReport[]): BuildStatus {
  if (input.error) return statusForError(input.error.name);
  if (input.refused) return 'refused';
  if (input.notTriggered) return 'skipped';
  if (stages.some((s) => s.status === 'failed' || s.status === 'timed_out')) return 'failed';
  if (stages.some((s) => s.status === 'cancelled')) return 'cancelled';
  return 'succeeded';
}

function reasonNotRun(input: BuildReportInput): string | undefined {
  if (input.error) return undefined;
  return input.refused?.reason ?? input.notTriggered?.reason;
}

/** The template's default MaxStageConcurrency. */
const DEFAULT_BATCH_LIMIT = 10;

export function buildReport(input: BuildReportInput): BuildReport {
  const results = new Map(input.results.map((r) => [r.stage, r]));
  const runs = new Map(input.runs.map((r) => [r.stage, r]));
  const network = input.network ?? { publicIpv4PerTask: true };
  const notRunReason = input.error ? `not run: ${input.error.name}` : 'not run';
  const stages: StageReport[] = [];
  const lines: CostLine[] = [];
  const ranStages: RanStage[] = [];
  const usageStages: UsageStage[] = [];
  // A refused build ran nothing, whatever plan is passed.
  const ran = input.refused ? undefined : input.plan;
  const planned = ran?.stages ?? [];
  const byName = new Map(planned.map((s) => [s.name, s]));
  const inWaveOrder = (ran?.waves ?? []).flat().map((name) => byName.get(name)).filter((s): s is PlannedStage => s !== undefined);
  let counted: S3RequestCount | undefined = input.s3Requests;
  const batchLimit = input.batchLimit ?? DEFAULT_BATCH_LIMIT;
  const batches = ran ? computeBatches(ran.waves, ran.stages, batchLimit) : [];
  const flags = new Map(batches.flatMap((batch) => batch.stages.map((s) => [s.name, s] as const)));
  for (const stage of inWaveOrder) {
    const result = results.get(stage.name);
    const run = runs.get(stage.name);
    const outcome = stageReport(stage, result, run, input.manifests, input.costs, network, notRunReason);
    stages.push(outcome.report);
    lines.push(...outcome.lines);
    if (outcome.ran) ranStages.push(outcome.ran);
    const { waits = false, releases = false } = flags.get(stage.name) ?? {};
    const skippedBySelection = result?.status === 'skipped' && result.errorName === undefined;
    usageStages.push({ name: stage.name, needs: stage.needs, artifactsFrom: artifactSources(stage), waits, releases, result, run, skippedBySelection });
    // S3 is billed as counted only when every record that should carry a count does.
    if (result && counted) {
      const interrupted = run?.fargate?.spotInterruption?.s3Requests;
      counted = result.s3Requests ? addCounts(addCounts(addCounts(addCounts(counted, result.s3Requests), run?.s3Requests), run?.escalation?.s3Requests), interrupted) : undefined;
    }
  }
  for (const skipped of ran?.skipped ?? []) stages.push(skippedByIf(skipped.name, skipped.reason));

  // A build the triggers did not want (or the farm refused) still went through Run waves (with no waves).
  const usage = {
    planned: input.plan !== undefined || input.notTriggered !== undefined || input.refused !== undefined,
    batches: batches.map((batch) => batch.stages.map((s) => s.name)),
    skippedByIf: ran?.skipped.length ?? 0,
    stages: usageStages,
  };
  const stateTransitions = input.stateTransitions ?? estimateStateTransitions(usage);
  lines.push(costLine({ item: 'stateTransitions', quantity: stateTransitions, unit: 'transitions', usd: input.costs.stateTransitionsUsd(stateTransitions), ...(input.stateTransitions === undefined ? { estimated: true, note: 'counted from the path each stage took through the state machine' } : {}) }));
  // Counted where the tasks count; Select stages and StageCredentials are modelled from their code paths.
  const s3 = counted ? addCounts(counted, modelledControlPlaneRequests(usage)) : estimateS3Requests(usage);
  const s3Estimated = counted === undefined
    ? { estimated: true, note: 'estimated from the key layout: some records carry no request count' }
    : { note: 'counted per request by the S3 clients; Select stages and StageCredentials modelled from their code paths' };
  lines.push(costLine({ item: 's3Tier1Requests', quantity: s3.put, unit: 'requests', usd: input.costs.s3RequestsUsd({ put: s3.put, get: 0 }), ...s3Estimated }));
  lines.push(costLine({ item: 's3Tier2Requests', quantity: s3.get, unit: 'requests', usd: input.costs.s3RequestsUsd({ put: 0, get: s3.get }), ...s3Estimated }));
  const breakdown = costBreakdown(lines);
  const predicted = input.refused ? { ...predictedCost(undefined, input.costs, network, batchLimit), computeUsd: input.refused.predictedCostUsd, totalUsd: input.refused.predictedCostUsd } : predictedCost(input.plan, input.costs, network, batchLimit);
  const allFargate = allFargateCost(ranStages, breakdown, input.costs, network);
  const started = Date.parse(input.startedAt);
  const finished = Date.parse(input.finishedAt);
  return {
    buildId: input.buildId,
    repository: input.request.repository,
    ref: input.request.ref,
    sha: input.request.sha,
    status: buildStatus(input, stages),
    ...(input.error ? { error: input.error } : {}),
    ...(reasonNotRun(input) !== undefined ? { reason: reasonNotRun(input) } : {}),
    startedAt: input.startedAt,
    finishedAt: input.finishedAt,
    durationMs: Number.isFinite(finished - started) ? Math.max(0, finished - started) : 0,
    stages,
    totalCostUsd: breakdown.totalUsd,
    costBreakdown: breakdown,
    predictedCostUsd: predicted.totalUsd,
    allFargateCostUsd: allFargate.totalUsd,
    priceBook: input.costs.priceBook,
    comparison: {
      predicted,
      differenceUsd: roundUsd(breakdown.totalUsd - predicted.totalUsd),
      allFargate,
      githubHosted: githubHostedCost(ranStages, breakdown, input.costs),
    },
  };
}
