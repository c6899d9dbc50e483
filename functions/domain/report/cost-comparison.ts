/**
 * The report's comparisons, each total to total on the same basis as the farm's own total:
 * - predicted: the plan's compute prediction plus the orchestration, S3 requests and public IPv4
 *   the same plan implies (a stage `if:` left out is predicted at $0: it is not in the plan);
 * - all on Fargate: every stage on its on-demand Fargate size, Fargate's start-up (image pull)
 *   included, with the orchestration and S3 requests of the Fargate path;
 * - GitHub-hosted runners: each stage a job, rounded up to a whole minute, at dated prices.
 */
import { artifactSources } from '../plan/artifact-sources.js';
import { computeBatches } from '../plan/batches.js';
import type { Plan, PlannedStage } from '../plan/types.js';
import { FARGATE_BILLED_STARTUP_MS } from '../pricing/cost.js';
import { githubHostedJobCost } from '../pricing/github-hosted.js';
import { fargateBilledMsFromDuration, roundUsd } from './billing.js';
import type { CostBreakdown } from './cost-breakdown.js';
import type { CostModel } from './cost-model.js';
import type { StageRunRecord } from './run-record.js';
import type { NetworkSetting } from './stage-cost.js';
import type { StageResult } from './types.js';
import { estimateS3Requests, estimateStateTransitions, stageTransitions, type UsageStage } from './usage-estimate.js';

export interface PredictedCost {
  computeUsd: number;
  publicIpv4Usd: number;
  stateTransitions: number;
  stateTransitionsUsd: number;
  s3RequestsUsd: number;
  totalUsd: number;
}

export interface AlternativeCost {
  totalUsd: number;
  /** The alternative's total minus the farm's actual total (positive: the farm saved this much). */
  savedUsd: number;
}

export interface GitHubHostedComparison extends AlternativeCost {
  source: string;
  asOf: string;
  jobs: { stage: string; sku: string; minutes: number; usd: number }[];
}

export interface CostComparison {
  predicted: PredictedCost;
  /** Actual total minus predicted total. */
  differenceUsd: number;
  allFargate: AlternativeCost & { computeUsd: number; publicIpv4Usd: number; stateTransitionsUsd: number; s3RequestsUsd: number; cloudWatchLogsUsd: number };
  githubHosted: GitHubHostedComparison;
}

/** A Fargate task's usage: the task from pull start, and its public IPv4 for as long. */
function fargateStageUsd(stage: PlannedStage, billedMs: number, costs: CostModel, network: NetworkSetting): { computeUsd: number; ipv4Usd: number } {
  if (billedMs <= 0) return { computeUsd: 0, ipv4Usd: 0 };
  return {
    computeUsd: costs.fargateUsd({ ...stage.fargate, spot: false }, billedMs, false),
    ipv4Usd: network.publicIpv4PerTask ? costs.publicIpv4Usd(billedMs) : 0,
  };
}

/** A run record for a stage that ran on Fargate to success: the path the prediction and the all-Fargate figure assume. */
function fargateRun(stage: string): StageRunRecord {
  return { stage, runner: 'fargate', fargate: { capacityProvider: 'FARGATE', spotFallback: false, pullStartedAt: 0, stoppedAt: 1, buildExitCode: 0 } };
}

function predictedResult(stage: PlannedStage): StageResult {
  return { buildId: '', stage: stage.name, status: 'succeeded', runner: stage.runner, exitCode: 0, reason: '', startedAt: '', finishedAt: '', durationMs: stage.predictedDurationSeconds * 1000, peakMemoryMiB: 0, peakDiskMiB: 0, logKey: '', manifestKey: '', artifactCount: stage.artifacts.length, artifactBytes: 0 };
}

/** The plan's prediction, on the basis of the actual total. Log bytes are not predicted (no history of them yet). */
export function predictedCost(plan: Plan | undefined, costs: CostModel, network: NetworkSetting, batchLimit: number): PredictedCost {
  const batches = plan ? computeBatches(plan.waves, plan.stages, batchLimit) : [];
  const flags = new Map(batches.flatMap((batch) => batch.stages.map((s) => [s.name, s] as const)));
  const stages: UsageStage[] = (plan?.stages ?? []).map((stage) => ({
    name: stage.name,
    needs: stage.needs,
    artifactsFrom: artifactSources(stage),
    waits: flags.get(stage.name)?.waits ?? false,
    releases: flags.get(stage.name)?.releases ?? false,
    result: predictedResult(stage),
    run: stage.runner === 'fargate' ? fargateRun(stage.name) : undefined,
    skippedBySelection: false,
  }));
  const usage = { planned: plan !== undefined, batches: batches.map((batch) => batch.stages.map((s) => s.name)), skippedByIf: plan?.skipped.length ?? 0, stages };
  const computeUsd = plan?.predictedCostUsd ?? 0;
  const publicIpv4Usd = network.publicIpv4PerTask
    ? (plan?.stages ?? []).filter((s) => s.runner === 'fargate').reduce((sum, s) => sum + costs.publicIpv4Usd(fargateBilledMsFromDuration(s.predictedDurationSeconds * 1000 + FARGATE_BILLED_STARTUP_MS)), 0)
    : 0;
  const stateTransitions = estimateStateTransitions(usage);
  const stateTransitionsUsd = costs.stateTransitionsUsd(stateTransitions);
  const s3RequestsUsd = costs.s3RequestsUsd(estimateS3Requests(usage));
  return {
    computeUsd: roundUsd(computeUsd),
    publicIpv4Usd: roundUsd(publicIpv4Usd),
    stateTransitions,
    stateTransitionsUsd: roundUsd(stateTransitionsUsd),
    s3RequestsUsd: roundUsd(s3RequestsUsd),
    totalUsd: roundUsd(computeUsd + publicIpv4Usd + stateTransitionsUsd + s3RequestsUsd),
  };
}

export interface RanStage {
  planned: PlannedStage;
  result: StageResult;
  run?: StageRunRecord;
  /** When it ran on Fargate: its tasks' billed ms (on-demand here, whatever it ran on) and their IPv4 cost. */
  fargate?: { billedMs: number; ipv4Usd: number };
}

/**
 * Every stage on on-demand Fargate. A stage that ran on Fargate costs what it cost there; one that
 * ran on Lambda costs its duration plus Fargate's start-up (the plan's pull estimate). Orchestration
 * and S3: the farm's actual figures, with each Lambda stage's path swapped for the Fargate path's
 * transitions and its record task's two requests (GET result, PUT run record). Logs: the same bytes.
 */
export function allFargateCost(ran: RanStage[], breakdown: CostBreakdown, costs: CostModel, network: NetworkSetting): CostComparison['allFargate'] {
  let computeUsd = 0;
  let ipv4Usd = 0;
  let extraTransitions = 0;
  let extraRequests = { put: 0, get: 0 };
  for (const stage of ran) {
    const onFargate = (stage.run?.runner ?? stage.result.runner) === 'fargate';
    const usd = onFargate && stage.fargate
      ? { computeUsd: stage.fargate.billedMs > 0 ? costs.fargateUsd({ ...stage.planned.fargate, spot: false }, stage.fargate.billedMs, false) : 0, ipv4Usd: stage.fargate.ipv4Usd }
      : fargateStageUsd(stage.planned, fargateBilledMsFromDuration(stage.result.durationMs + FARGATE_BILLED_STARTUP_MS), costs, network);
    computeUsd += usd.computeUsd;
    ipv4Usd += usd.ipv4Usd;
    if (!onFargate) {
      const actual: UsageStage = { name: stage.planned.name, needs: stage.planned.needs, artifactsFrom: artifactSources(stage.planned), waits: false, releases: false, result: stage.result, run: stage.run, skippedBySelection: false };
      extraTransitions += stageTransitions({ ...actual, run: fargateRun(stage.planned.name) }) - stageTransitions(actual);
      extraRequests = { put: extraRequests.put + 1, get: extraRequests.get + 1 };
    }
  }
  const stateTransitionsUsd = breakdown.stateTransitionsUsd + costs.stateTransitionsUsd(extraTransitions);
  const s3RequestsUsd = breakdown.s3RequestsUsd + costs.s3RequestsUsd(extraRequests);
  const totalUsd = roundUsd(computeUsd + ipv4Usd + stateTransitionsUsd + s3RequestsUsd + breakdown.cloudWatchLogsUsd);
  return {
    computeUsd: roundUsd(computeUsd),
    publicIpv4Usd: roundUsd(ipv4Usd),
    stateTransitionsUsd: roundUsd(stateTransitionsUsd),
    s3RequestsUsd: roundUsd(s3RequestsUsd),
    cloudWatchLogsUsd: breakdown.cloudWatchLogsUsd,
    totalUsd,
    savedUsd: roundUsd(totalUsd - breakdown.totalUsd),
  };
}

/** Each stage a GitHub-hosted job on the smallest Linux runner covering its Fargate size, rounded up to the minute. */
export function githubHostedCost(ran: RanStage[], breakdown: CostBreakdown, costs: CostModel): GitHubHostedComparison {
  const jobs = ran.map(({ planned, result }) => {
    const job = githubHostedJobCost({ architecture: planned.fargate.architecture, vcpu: planned.fargate.cpu / 1024, memoryMiB: planned.fargate.memory, durationMs: result.durationMs }, costs.githubHosted);
    return { stage: planned.name, sku: job.sku, minutes: job.minutes, usd: roundUsd(job.costUsd) };
  });
  const totalUsd = roundUsd(jobs.reduce((sum, j) => sum + j.usd, 0));
  return { source: costs.githubHosted.source, asOf: costs.githubHosted.asOf, jobs, totalUsd, savedUsd: roundUsd(totalUsd - breakdown.totalUsd) };
}
