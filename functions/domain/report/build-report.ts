/**
 * The build report: each stage's outcome and actual cost, totals including orchestration and
 * storage requests, and the comparison with the plan's prediction and with running everything
 * on Fargate. Pure: records, prices and times come in as arguments.
 */
import { statusForError } from './execution-end.js';
import type { BuildRequest } from '../build-request.js';
import type { Plan, PlannedStage } from '../plan/types.js';
import { fargateBilledMs, fargateBilledMsFromDuration, lambdaBilledMs, roundUsd } from './billing.js';
import type { CostModel } from './cost-model.js';
import type { StageRunRecord } from './run-record.js';
import type { ArtifactEntry, BuildReport, BuildStatus, StageReport, StageResult } from './types.js';
import { estimateS3Requests, estimateStateTransitions, type UsageStage } from './usage-estimate.js';

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
  /** Counted state transitions when known (local runs); else estimated from the records. */
  stateTransitions?: number;
}

/** Lambda's hard limit: https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html */
const LAMBDA_MAX_MS = 900_000;

/**
 * The billed time of a Lambda attempt that was escalated. The runner's error does not carry its
 * duration through Step Functions, so a StageTimeout is taken to have used the whole deadline
 * (the stage's timeout, at most Lambda's 15 minutes); an OutOfDisk attempt is not known and
 * counts nothing unless the runner reported it.
 */
export function lambdaAttemptMs(planned: PlannedStage, escalation: NonNullable<StageRunRecord['escalation']>): number {
  if (escalation.lambdaBilledMs > 0) return escalation.lambdaBilledMs;
  if (escalation.errorName === 'StageTimeout') return Math.min(planned.timeoutSeconds * 1000, LAMBDA_MAX_MS);
  return 0;
}

interface StageCost {
  billedDurationMs: number;
  costUsd: number;
}

function costOf(planned: PlannedStage, result: StageResult, run: StageRunRecord | undefined, costs: CostModel): StageCost {
  const runner = run?.runner ?? result.runner;
  let billedDurationMs: number;
  let costUsd: number;
  if (runner === 'lambda') {
    billedDurationMs = lambdaBilledMs(result.durationMs);
    costUsd = planned.lambda ? costs.lambdaUsd(planned.lambda, billedDurationMs) : 0;
  } else {
    // With a run record the task's timestamps decide, and no task (or one that never pulled its
    // image) cost nothing; without one (records lost), the measured duration is the best guess.
    const task = run?.fargate;
    billedDurationMs = run ? fargateBilledMs(task?.pullStartedAt, task?.stoppedAt) : fargateBilledMsFromDuration(result.durationMs);
    const spot = task ? task.capacityProvider === 'FARGATE_SPOT' : planned.fargate.spot;
    // The per-second model charges its one-minute minimum to any task: one that never ran is free.
    costUsd = billedDurationMs > 0 ? costs.fargateUsd(planned.fargate, billedDurationMs, spot) : 0;
    // A Spot task Fargate interrupted before the on-demand rerun was billed too, at the Spot rate.
    const interrupted = task?.spotInterruption;
    const interruptedMs = interrupted ? fargateBilledMs(interrupted.pullStartedAt, interrupted.stoppedAt) : 0;
    if (interruptedMs > 0) {
      billedDurationMs += interruptedMs;
      costUsd += costs.fargateUsd(planned.fargate, interruptedMs, true);
    }
  }
  // An escalated stage also paid for the Lambda attempt that ran out of time or disk.
  const attemptMs = run?.escalation ? lambdaAttemptMs(planned, run.escalation) : 0;
  if (planned.lambda && attemptMs > 0) costUsd += costs.lambdaUsd(planned.lambda, attemptMs);
  return { billedDurationMs, costUsd: roundUsd(costUsd) };
}

/** What the stage would have cost on its on-demand Fargate size (Lambda stages: their duration, per-second rules). */
function allFargateCostOf(planned: PlannedStage, result: StageResult, cost: StageCost, run: StageRunRecord | undefined, costs: CostModel): number {
  const ranOnFargate = (run?.runner ?? result.runner) === 'fargate';
  const billed = ranOnFargate ? cost.billedDurationMs : fargateBilledMsFromDuration(result.durationMs);
  return billed > 0 ? costs.fargateUsd({ ...planned.fargate, spot: false }, billed, false) : 0;
}

function stageReport(planned: PlannedStage, result: StageResult | undefined, run: StageRunRecord | undefined, manifests: Record<string, ArtifactEntry[]>, costs: CostModel, notRunReason: string): { report: StageReport; allFargateUsd: number } {
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
      allFargateUsd: 0,
    };
  }
  const cost = costOf(planned, result, run, costs);
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
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      ...(result.cache ? { cache: result.cache } : {}),
    },
    allFargateUsd: allFargateCostOf(planned, result, cost, run, costs),
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

export function buildReport(input: BuildReportInput): BuildReport {
  const results = new Map(input.results.map((r) => [r.stage, r]));
  const runs = new Map(input.runs.map((r) => [r.stage, r]));
  const notRunReason = input.error ? `not run: ${input.error.name}` : 'not run';
  const stages: StageReport[] = [];
  let allFargateUsd = 0;
  const usageStages: UsageStage[] = [];
  // A refused build ran nothing, whatever plan is passed.
  const ran = input.refused ? undefined : input.plan;
  const planned = ran?.stages ?? [];
  const byName = new Map(planned.map((s) => [s.name, s]));
  const inWaveOrder = (ran?.waves ?? []).flat().map((name) => byName.get(name)).filter((s): s is PlannedStage => s !== undefined);
  for (const stage of inWaveOrder) {
    const result = results.get(stage.name);
    const run = runs.get(stage.name);
    const { report, allFargateUsd: stageAllFargate } = stageReport(stage, result, run, input.manifests, input.costs, notRunReason);
    stages.push(report);
    allFargateUsd += stageAllFargate;
    usageStages.push({ name: stage.name, upstream: stage.upstream, result, run, skippedBySelection: result?.status === 'skipped' });
  }
  for (const skipped of ran?.skipped ?? []) stages.push(skippedByIf(skipped.name, skipped.reason));

  // A build the triggers did not want (or the farm refused) still went through Run waves (with no waves).
  const usage = {
    planned: input.plan !== undefined || input.notTriggered !== undefined || input.refused !== undefined,
    waves: ran?.waves ?? [],
    skippedByIf: ran?.skipped.length ?? 0,
    stages: usageStages,
  };
  const stateTransitions = input.stateTransitions ?? estimateStateTransitions(usage);
  const s3 = estimateS3Requests(usage);
  const computeUsd = roundUsd(stages.reduce((sum, s) => sum + s.costUsd, 0));
  const stateTransitionsUsd = roundUsd(input.costs.stateTransitionsUsd(stateTransitions));
  const s3RequestsUsd = roundUsd(input.costs.s3RequestsUsd(s3));
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
    totalCostUsd: roundUsd(computeUsd + stateTransitionsUsd + s3RequestsUsd),
    costBreakdown: {
      computeUsd,
      stateTransitions,
      stateTransitionsUsd,
      s3Requests: s3.put + s3.get,
      s3RequestsUsd,
    },
    predictedCostUsd: input.refused?.predictedCostUsd ?? input.plan?.predictedCostUsd ?? 0,
    allFargateCostUsd: roundUsd(allFargateUsd),
  };
}
