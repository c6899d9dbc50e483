/**
 * The planner compiles a linted pipeline into the plan the state machine
 * executes: waves from `needs`, a runner and a valid size for every stage,
 * each with its reason, and a predicted cost.
 */
import { PipelineInvalid, type PipelineIssue, type SourceLocation } from '../errors.js';
import { matchesCondition } from '../pipeline/triggers.js';
import type { Pipeline, StageSpec } from '../pipeline/types.js';
import { FARGATE_BILLED_STARTUP_MS, fargateCost, lambdaCost } from '../pricing/cost.js';
import { regionPrices, type PriceBook } from '../pricing/price-book.js';
import { chooseFargateSize } from '../sizing/choose-fargate-size.js';
import { LAMBDA_RUNNER_ARCHITECTURE, lambdaMemoryNeeded, lambdaTierFor } from '../sizing/lambda-sizes.js';
import { chooseRunner, lambdaMisfits } from './choose-runner.js';
import { predictedDurationMs } from './predict.js';
import type { LambdaSize, Plan, PlanContext, PlannedStage, PlannerConfig, SkippedStage, StageHistory } from './types.js';
import { historyBudgetIssue } from './history-budget.js';
import { historyIdOf } from './stage-definition.js';
import { applyAutoResources } from './auto-resources.js';
import { recommendSize, type MeasuredCpu } from '../sizing/right-size.js';
import { artifactSourcesOf } from './artifact-sources.js';
import { computeWaves, upstreamOf } from './waves.js';

export interface PlanOptions {
  prices: PriceBook;
  /** Recorded runs, by stage name (of this version of the stage: see historyIdOf). */
  history?: Record<string, StageHistory>;
  /** Maps a field path to where it is in the file, for errors the planner finds. */
  locate?: (path: string) => SourceLocation | undefined;
  file?: string;
}

/** Stages whose `if:` is false, and every stage that needs one of them. */
function conditionSkips(pipeline: Pipeline, ctx: PlanContext): SkippedStage[] {
  const skipped = new Map<string, string>();
  for (const stage of pipeline.stages) {
    if (!matchesCondition(stage.if, ctx)) {
      const on = ctx.event === 'pull_request' && ctx.baseBranch ? `a pull request into ${ctx.baseBranch}` : `${ctx.event} on ${ctx.branch}`;
      skipped.set(stage.name, `if: does not match ${on}`);
    }
  }
  // Stages are not in dependency order in the file; repeat until nothing changes.
  let changed = true;
  while (changed) {
    changed = false;
    for (const stage of pipeline.stages) {
      if (skipped.has(stage.name)) continue;
      const missing = stage.needs.find((n) => skipped.has(n));
      if (missing) {
        skipped.set(stage.name, `needs ${missing}, which is skipped`);
        changed = true;
      }
    }
  }
  return [...skipped].map(([name, reason]) => ({ name, reason }));
}

/** The history's CPU figures, where a runner measured them. */
function measuredCpu(history: StageHistory): { cpu?: MeasuredCpu } {
  return history.peakVcpu !== undefined ? { cpu: { peakVcpu: history.peakVcpu, averageVcpu: history.averageVcpu ?? history.peakVcpu } } : {};
}

function lambdaSizeFor(stage: StageSpec, config: PlannerConfig): LambdaSize {
  const needed = lambdaMemoryNeeded(stage.resources.cpu, stage.resources.memoryMiB);
  // A stage over the largest deployed tier goes to Fargate (lambdaMisfits); its Lambda size
  // still prices the road not taken, on the tier Lambda would offer (lambdaMemoryNeeded caps at 10240).
  const memoryMB = lambdaTierFor(needed, config.lambdaRunnerTiersMB) ?? lambdaTierFor(needed)!;
  // The runner functions are x86_64 (the template deploys them so): `architecture` picks Fargate's.
  return { memoryMB, ephemeralStorageMB: config.lambdaEphemeralStorageMB, architecture: LAMBDA_RUNNER_ARCHITECTURE };
}

/** Six significant digits: enough for a cost, and stable in JSON. */
function roundUsd(n: number): number {
  return Number(n.toPrecision(6));
}

export function planPipeline(pipeline: Pipeline, ctx: PlanContext, config: PlannerConfig, options: PlanOptions): Plan {
  const prices = regionPrices(options.prices, config.region);
  const skipped = conditionSkips(pipeline, ctx);
  const skippedNames = new Set(skipped.map((s) => s.name));
  const active = pipeline.stages.filter((s) => !skippedNames.has(s.name));
  const waves = computeWaves(active);
  const waveOf = new Map(waves.flatMap((wave, i) => wave.map((name) => [name, i] as const)));
  const needsOf = new Map(active.map((s) => [s.name, s.needs]));
  const artifactsOf = new Map(active.map((s) => [s.name, s.artifacts]));
  const issues: PipelineIssue[] = [];

  const stages: PlannedStage[] = active.map((written) => {
    const history = options.history?.[written.name];
    const auto = applyAutoResources(written, history);
    const stage = auto.stage;
    const fargate = chooseFargateSize(stage.resources, { architecture: stage.architecture, spot: stage.spot }, prices);
    const lambda = lambdaSizeFor(stage, config);
    const predictedMs = predictedDurationMs(history);
    const costOn = (runner: 'lambda' | 'fargate', ms: number): number =>
      runner === 'lambda' ? lambdaCost(lambda, ms, prices).costUsd : fargateCost(fargate, ms + FARGATE_BILLED_STARTUP_MS, prices).costUsd;
    const measured = predictedMs === undefined ? undefined : { durationMs: predictedMs, lambdaUsd: costOn('lambda', predictedMs), fargateUsd: costOn('fargate', predictedMs) };
    const decision = chooseRunner(stage, config, history, measured, pipeline.optimize ?? config.optimize);
    if (stage.runner === 'lambda') {
      const misfits = lambdaMisfits(stage, config, undefined);
      for (const misfit of misfits) {
        const loc = options.locate?.(`stages.${stage.name}.runner`) ?? { file: options.file ?? '.buildfarm.yml', line: 1, column: 1 };
        issues.push({ ...loc, path: `stages.${stage.name}.runner`, message: `runner: lambda cannot be honoured: ${misfit}` });
      }
    }
    const durationMs = predictedMs ?? stage.timeoutSeconds * 1000;
    const planned: PlannedStage = {
      name: stage.name,
      wave: waveOf.get(stage.name)!,
      runner: decision.runner,
      reason: decision.reason,
      timeoutSeconds: stage.timeoutSeconds,
      needs: stage.needs,
      upstream: upstreamOf(stage.name, needsOf),
      artifactsFrom: artifactSourcesOf(upstreamOf(stage.name, needsOf), (name) => (artifactsOf.get(name)?.length ?? 0) > 0),
      commands: stage.commands,
      env: stage.env,
      secrets: stage.secrets,
      artifacts: stage.artifacts,
      ...(stage.cache ? { cache: stage.cache } : {}),
      ...(stage.image ? { image: stage.image } : {}),
      runAsRoot: stage.runAsRoot,
      ...(stage.logLimitBytes !== undefined ? { logLimitBytes: stage.logLimitBytes } : {}),
      fargate,
      predictedDurationSeconds: Math.ceil(durationMs / 1000),
      predictedFrom: predictedMs === undefined ? 'timeout' : 'history',
      predictedCostUsd: 0,
      historyId: historyIdOf(stage),
    };
    if (decision.runner === 'lambda') planned.lambda = lambda;
    planned.predictedCostUsd = roundUsd(costOn(decision.runner, durationMs));
    if (auto.applied) planned.autoSized = auto.applied;
    const rightSizing = !stage.resourcesAuto && history && predictedMs !== undefined
      ? recommendSize({ name: stage.name, runner: planned.runner, lambda: planned.lambda, fargate, durationMs: predictedMs, peakMemoryMiB: history.peakMemoryMiB, ...measuredCpu(history) }, prices, config.lambdaRunnerTiersMB)
      : undefined;
    if (rightSizing) planned.rightSizing = rightSizing;
    return planned;
  });
  const history = historyBudgetIssue({ waves, stages });
  if (history) issues.push({ ...(options.locate?.('stages') ?? { file: options.file ?? '.buildfarm.yml', line: 1, column: 1 }), path: 'stages', message: history });
  if (issues.length > 0) throw new PipelineInvalid(issues);

  return {
    version: 1,
    waves,
    stages,
    skipped,
    failFast: pipeline.failFast,
    cancelSuperseded: pipeline.cancelSuperseded,
    region: config.region,
    predictedCostUsd: roundUsd(stages.reduce((sum, s) => sum + s.predictedCostUsd, 0)),
    secretsWithheld: ctx.secretsWithheld === true,
    ...(pipeline.cost?.prThresholdPercent !== undefined ? { prCostThresholdPercent: pipeline.cost.prThresholdPercent } : {}),
    ...(ctx.cacheScope && stages.some((stage) => stage.cache) ? { cacheScope: ctx.cacheScope } : {}),
  };
}
