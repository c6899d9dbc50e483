/**
 * plan: how long validating and planning a 1,000-stage pipeline takes (parse, lint and
 * plan, the work of the Plan task and of `buildfarm plan`), and what the farm's plan is
 * predicted to cost against the same stages all on Fargate and on CodeBuild per-minute.
 */
import { parsePipelineWithSites } from '../functions/domain/pipeline/parse.js';
import { MAX_FILE_BYTES } from '../functions/domain/pipeline/limits.js';
import { planPipeline } from '../functions/domain/plan/planner.js';
import { predictedDurationMs } from '../functions/domain/plan/predict.js';
import type { Plan } from '../functions/domain/plan/types.js';
import { allFargateCostUsd, codeBuildCostUsd } from '../functions/domain/pricing/alternatives.js';
import { FARGATE_BILLED_STARTUP_MS, orchestrationCost } from '../functions/domain/pricing/cost.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../functions/domain/pricing/price-book.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { median, msSince, ratio, round } from './lib/stats.js';
import { syntheticPipeline } from './lib/synthetic-pipeline.js';

export const PLAN_STAGES = 1_000;
export const PLAN_RUNS = 7;
const REGION = 'us-east-1';
const CONFIG = { region: REGION, lambdaEphemeralStorageMB: 512 };
const CONTEXT = { event: 'push' as const, branch: 'main' };

/** Transitions one more stage adds to a build (from the transitions section), to price orchestration. */
export interface TransitionsPerStage {
  lambda: number;
  fargate: number;
}

export async function benchPlan(transitions?: TransitionsPerStage): Promise<SectionResult> {
  const synthetic = syntheticPipeline(PLAN_STAGES);
  const bytes = Buffer.byteLength(synthetic.text);
  if (bytes > MAX_FILE_BYTES) throw new Error(`the generated pipeline is ${bytes} bytes, over the ${MAX_FILE_BYTES}-byte limit`);

  const runs: Array<{ parseMs: number; planMs: number; totalMs: number; cpuMs: number }> = [];
  let plan: Plan | undefined;
  // The first run is the cold one (the Plan task's first build after a cold start); then PLAN_RUNS warm.
  for (let i = 0; i <= PLAN_RUNS; i += 1) {
    const cpuBefore = process.cpuUsage();
    const start = process.hrtime.bigint();
    const { pipeline, sites } = parsePipelineWithSites(synthetic.text);
    const parseMs = msSince(start);
    const planStart = process.hrtime.bigint();
    plan = planPipeline(pipeline, CONTEXT, CONFIG, {
      prices: DEFAULT_PRICE_BOOK,
      history: synthetic.history,
      locate: (path) => sites.locate(path),
    });
    const totalMs = msSince(start);
    const cpu = process.cpuUsage(cpuBefore);
    runs.push({ parseMs, planMs: msSince(planStart), totalMs, cpuMs: (cpu.user + cpu.system) / 1000 });
  }
  if (plan === undefined || plan.stages.length !== PLAN_STAGES) throw new Error('the plan does not hold every stage');
  const warm = runs.slice(1);
  const totalMs = round(median(warm.map((r) => r.totalMs)));

  // The same durations for every alternative: the planner's own prediction from history
  // (the slowest recent run). Fargate bills its image pull, so all-Fargate gets the same
  // start-up allowance the farm's Fargate stages are predicted with; CodeBuild bills per
  // started minute from the build's start, so it gets the bare duration.
  const prices = regionPrices(DEFAULT_PRICE_BOOK, REGION);
  const durations = plan.stages.map((stage) => ({ stage, durationMs: predictedDurationMs(synthetic.history[stage.name]) ?? stage.timeoutSeconds * 1000 }));
  const farmUsd = plan.predictedCostUsd;
  const allFargateUsd = round(allFargateCostUsd(durations.map((d) => ({ ...d, durationMs: d.durationMs + FARGATE_BILLED_STARTUP_MS })), prices), 6);
  const codeBuildUsd = round(codeBuildCostUsd(durations), 6);
  const onLambda = plan.stages.filter((s) => s.runner === 'lambda').length;
  const onFargate = plan.stages.length - onLambda;
  const orchestrationUsd =
    transitions === undefined ? undefined : round(orchestrationCost(onLambda * transitions.lambda + onFargate * transitions.fargate, prices), 6);

  const mix = Object.entries(synthetic.mix).map(([kind, count]) => `${count} ${kind}`).join(', ');
  const assumption = `${PLAN_STAGES} generated stages (${mix}; bench/lib/synthetic-pipeline.ts), durations from a synthetic history of 5 runs each; the planner put ${onLambda} on Lambda and ${onFargate} on Fargate`;
  const figures: Figure[] = [
    {
      section: 'plan',
      name: `parse + lint + plan, ${PLAN_STAGES} stages`,
      value: totalMs,
      unit: 'ms',
      how: `parsePipelineWithSites + planPipeline on a ${round(bytes / 1024)} KiB file, median of ${PLAN_RUNS} warm runs (CPU time ${round(median(warm.map((r) => r.cpuMs)))} ms; the first, cold run: ${round(runs[0].totalMs)} ms; parse + lint ${round(median(warm.map((r) => r.parseMs)))} ms, plan ${round(median(warm.map((r) => r.planMs)))} ms)`,
      goal: below(totalMs, 1000, '< 1 s'),
    },
    {
      section: 'plan',
      name: 'predicted compute cost of the farm\'s plan',
      value: farmUsd,
      unit: 'USD',
      how: `${assumption}; Fargate stages include the 20 s billed start-up; us-east-1 list prices`,
      baseline: { name: 'all on Fargate (on demand, same sizes and durations, same start-up)', value: allFargateUsd, unit: 'USD' },
      ratio: ratio(farmUsd, allFargateUsd),
      goal: { text: 'cheaper than all-Fargate', met: farmUsd < allFargateUsd },
    },
    {
      section: 'plan',
      name: 'the same plan against CodeBuild',
      value: farmUsd,
      unit: 'USD',
      how: `${assumption}; each stage on the smallest CodeBuild general1 type covering its Fargate size, billed per started minute`,
      baseline: { name: 'CodeBuild per-minute, same stages and durations', value: codeBuildUsd, unit: 'USD' },
      ratio: ratio(farmUsd, codeBuildUsd),
      goal: { text: 'cheaper than CodeBuild', met: farmUsd < codeBuildUsd },
    },
  ];
  if (orchestrationUsd !== undefined) {
    const total = round(farmUsd + orchestrationUsd, 6);
    figures.push({
      section: 'plan',
      name: "the farm's plan with orchestration",
      value: total,
      unit: 'USD',
      how: `compute above plus Step Functions transitions per stage as measured in the transitions section (${transitions!.lambda} a Lambda stage, ${transitions!.fargate} a Fargate stage, in a shared wave): $${orchestrationUsd}`,
      baseline: { name: 'CodeBuild per-minute', value: codeBuildUsd, unit: 'USD' },
      ratio: ratio(total, codeBuildUsd),
      goal: { text: 'cheaper than CodeBuild', met: total < codeBuildUsd },
    });
  }
  return {
    figures,
    details: {
      stages: PLAN_STAGES,
      fileBytes: bytes,
      waves: plan.waves.length,
      mix: synthetic.mix,
      onLambda,
      onFargate,
      runs: runs.map((r) => ({ parseMs: round(r.parseMs), planMs: round(r.planMs), totalMs: round(r.totalMs), cpuMs: round(r.cpuMs) })),
      costs: { farmComputeUsd: farmUsd, orchestrationUsd, allFargateUsd, codeBuildUsd },
    },
  };
}
