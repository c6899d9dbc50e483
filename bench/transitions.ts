/**
 * transitions: Step Functions state transitions one stage adds to a build, for a Lambda
 * stage and a Fargate stage, counted from the local interpreter's events as the real
 * statemachines/build.asl.json runs (runLocalBuild's `stateTransitions`: states entered plus
 * retries, which is what Standard workflows bill). The per-stage figure is the marginal
 * count: a build of N stages less a build of one, over N - 1, so the fixed Plan and Report
 * states drop out. Stages in a wave already running share that wave's Select stages / Run
 * stages states; a stage in a wave of its own (a chain of needs) pays for them too.
 */
import { orchestrationCost } from '../functions/domain/pricing/cost.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../functions/domain/pricing/price-book.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { buildLocally, repositoryWith } from './lib/local-build.js';
import { round } from './lib/stats.js';
import { rm } from 'node:fs/promises';

export const TRANSITION_STAGES = 4;

type Runner = 'lambda' | 'fargate';
type Shape = 'single' | 'wave' | 'chain';

function pipelineYaml(runner: Runner, shape: Shape, stages: number): string {
  const lines = ['version: 1', 'stages:'];
  const count = shape === 'single' ? 1 : stages;
  for (let i = 0; i < count; i += 1) {
    lines.push(`  s${i}:`, `    runner: ${runner}`, '    timeout: 5m', `    commands: [echo stage ${i}]`);
    if (shape === 'chain' && i > 0) lines.push(`    needs: [s${i - 1}]`);
  }
  return `${lines.join('\n')}\n`;
}

async function transitionsOf(runner: Runner, shape: Shape): Promise<number> {
  const repository = await repositoryWith(pipelineYaml(runner, shape, TRANSITION_STAGES));
  try {
    const { report, stateTransitions } = await buildLocally(repository, `bench-${runner}-${shape}`);
    if (report.status !== 'succeeded') throw new Error(`the ${runner} ${shape} build ${report.status}: ${JSON.stringify(report.error ?? report.stages.map((s) => s.reason))}`);
    const wrong = report.stages.find((stage) => stage.runner !== runner);
    if (wrong) throw new Error(`stage ${wrong.name} ran on ${wrong.runner}, not ${runner}`);
    return stateTransitions;
  } finally {
    await rm(repository, { recursive: true, force: true });
  }
}

export interface TransitionsResult extends SectionResult {
  perStage: { lambda: number; fargate: number };
}

export async function benchTransitions(): Promise<TransitionsResult> {
  const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');
  const counts: Record<Runner, Record<Shape, number>> = { lambda: { single: 0, wave: 0, chain: 0 }, fargate: { single: 0, wave: 0, chain: 0 } };
  for (const runner of ['lambda', 'fargate'] as const) {
    for (const shape of ['single', 'wave', 'chain'] as const) counts[runner][shape] = await transitionsOf(runner, shape);
  }
  const marginal = (runner: Runner, shape: Shape) => round((counts[runner][shape] - counts[runner].single) / (TRANSITION_STAGES - 1));
  const figures: Figure[] = [];
  const n = TRANSITION_STAGES;
  for (const runner of ['lambda', 'fargate'] as const) {
    const label = runner === 'lambda' ? 'Lambda' : 'Fargate';
    const inWave = marginal(runner, 'wave');
    const ownWave = marginal(runner, 'chain');
    const limit = runner === 'lambda' ? 3 : 5;
    figures.push(
      {
        section: 'transitions',
        name: `${label} stage, in a shared wave`,
        value: inWave,
        unit: 'transitions',
        how: `(${n} parallel ${runner} stages: ${counts[runner].wave}, less 1 stage: ${counts[runner].single}) / ${n - 1}, from the local interpreter's events on statemachines/build.asl.json`,
        goal: below(inWave, limit + 0.001, `<= ${limit}`),
      },
      {
        section: 'transitions',
        name: `${label} stage, in a wave of its own`,
        value: ownWave,
        unit: 'transitions',
        how: `(a chain of ${n} ${runner} stages: ${counts[runner].chain}, less 1 stage: ${counts[runner].single}) / ${n - 1}`,
      },
      {
        section: 'transitions',
        name: `orchestration cost of a ${label} stage`,
        value: round(orchestrationCost(ownWave, prices), 3),
        unit: 'USD',
        how: `at most the own-wave count x $${prices.stateTransition} per transition (Step Functions Standard, us-east-1); in a shared wave $${round(orchestrationCost(inWave, prices), 3)}`,
        goal: below(orchestrationCost(ownWave, prices), 0.0002, '< $0.0002'),
      },
    );
  }
  return {
    figures,
    perStage: { lambda: marginal('lambda', 'wave'), fargate: marginal('fargate', 'wave') },
    details: { stagesPerBuild: n, counts, fixedPerBuild: { lambda: counts.lambda.single, fargate: counts.fargate.single } },
  };
}
