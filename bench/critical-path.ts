/**
 * critical-path: wall time of a pipeline with uneven stages against its critical path, through
 * the local farm (the real state machine, handlers, agent and stage processes).
 *
 *     a (1 s) -> c (1 s) -> d (1 s) -> e (1 s)
 *     b (SLOW s)
 *
 * Waves would be [a, b], [c], [d], [e]: c, d and e would wait for the slow b. From the stages'
 * own durations in the same build: the critical path is the longest chain of durations along
 * the needs; waves would take the sum of each wave's slowest stage. The build runs twice: with
 * MaxStageConcurrency 5 (one batch: every stage waits only for its own needs) and with this
 * machine's default (the local farm's cores), whose smaller batches keep the batch rule.
 */
import { rm } from 'node:fs/promises';
import { computeBatches } from '../functions/domain/plan/batches.js';
import { computeWaves } from '../functions/domain/plan/waves.js';
import type { BuildReport } from '../functions/domain/report/types.js';
import { defaultStageConcurrency } from '../functions/local/stage-concurrency.js';
import type { Figure, SectionResult } from './lib/figure.js';
import { buildLocally, repositoryWith } from './lib/local-build.js';
import { ratio, round } from './lib/stats.js';

const SLOW_SECONDS = 10;
const NEEDS: Record<string, string[]> = { a: [], b: [], c: ['a'], d: ['c'], e: ['d'] };
const SLEEP: Record<string, number> = { a: 1, b: SLOW_SECONDS, c: 1, d: 1, e: 1 };

function pipelineYaml(): string {
  const lines = ['version: 1', 'stages:'];
  for (const [name, needs] of Object.entries(NEEDS)) {
    lines.push(`  ${name}:`, '    runner: lambda', `    commands: [sleep ${SLEEP[name]}]`);
    if (needs.length > 0) lines.push(`    needs: [${needs.join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

export interface Timings {
  /** First stage's start to last stage's end, ms. */
  stagesWallMs: number;
  /** The longest sum of stage durations along the needs, ms. */
  criticalPathMs: number;
  /** Sum over waves of the wave's slowest stage, ms. */
  wavesMs: number;
  stages: Record<string, { startMs: number; endMs: number; durationMs: number }>;
}

/** Wall time, critical path and the waves' figure from one build's stage records. */
export function timingsOf(report: BuildReport, needs: Record<string, string[]>): Timings {
  const started = (name: string) => Date.parse(report.stages.find((s) => s.name === name)!.startedAt!);
  const finished = (name: string) => Date.parse(report.stages.find((s) => s.name === name)!.finishedAt!);
  const names = Object.keys(needs);
  const zero = Math.min(...names.map(started));
  const duration = (name: string) => finished(name) - started(name);
  const longest = new Map<string, number>();
  const pathTo = (name: string): number => {
    if (!longest.has(name)) longest.set(name, duration(name) + Math.max(0, ...needs[name]!.map(pathTo)));
    return longest.get(name)!;
  };
  const waves = computeWaves(names.map((name) => ({ name, needs: needs[name]! })));
  return {
    stagesWallMs: Math.max(...names.map(finished)) - zero,
    criticalPathMs: Math.max(...names.map(pathTo)),
    wavesMs: waves.reduce((sum, wave) => sum + Math.max(...wave.map(duration)), 0),
    stages: Object.fromEntries(names.map((name) => [name, { startMs: started(name) - zero, endMs: finished(name) - zero, durationMs: duration(name) }])),
  };
}

async function measure(repository: string, concurrency: number): Promise<Timings & { buildMs: number; stateTransitions: number }> {
  const { report, stateTransitions } = await buildLocally(repository, `bench-critical-${concurrency}`, { maxStageConcurrency: concurrency });
  if (report.status !== 'succeeded') throw new Error(`the uneven build at concurrency ${concurrency} ${report.status}: ${JSON.stringify(report.error ?? report.stages.find((s) => s.status !== 'succeeded'))}`);
  return { ...timingsOf(report, NEEDS), buildMs: report.durationMs, stateTransitions };
}

export async function benchCriticalPath(): Promise<SectionResult> {
  const repository = await repositoryWith(pipelineYaml());
  const machineDefault = defaultStageConcurrency();
  try {
    const oneBatch = await measure(repository, 5);
    const byDefault = await measure(repository, machineDefault);
    const shape = `a(1 s) -> c -> d -> e (1 s each) beside b (${SLOW_SECONDS} s), Lambda stages through the local farm; durations are the stages' own (startedAt..finishedAt of their result records)`;
    const nodes = Object.entries(NEEDS).map(([name, needs]) => ({ name, needs }));
    const batchesAt = (concurrency: number) =>
      computeBatches(computeWaves(nodes), nodes, concurrency)
        .map((batch) => `[${batch.stages.map((stage) => stage.name).join(', ')}]`)
        .join(' ');
    const figure = (name: string, t: Timings, concurrency: number, goal: boolean): Figure => ({
      section: 'critical-path',
      name,
      value: round(t.stagesWallMs),
      unit: 'ms',
      how: `${shape}; MaxStageConcurrency ${concurrency}, batches ${batchesAt(concurrency)}; first stage start to last stage end. Waves would give ${round(t.wavesMs)} ms (each wave's slowest stage, summed, from the same durations); the ratio is to the critical path`,
      baseline: { name: 'the critical path: longest sum of stage durations along the needs, same build', value: round(t.criticalPathMs), unit: 'ms' },
      ratio: ratio(t.stagesWallMs, t.criticalPathMs),
      // Across a batch boundary a stage waits for the whole batch before, as a wave did: that
      // figure shows the batch rule, it has no goal.
      ...(goal ? { goal: { text: 'below what waves would give', met: t.stagesWallMs < t.wavesMs } } : {}),
    });
    return {
      figures: [
        figure('uneven pipeline, wall time, one batch', oneBatch, 5, true),
        figure(`uneven pipeline, wall time, this machine's default concurrency (${machineDefault})`, byDefault, machineDefault, false),
      ],
      details: { needs: NEEDS, sleepSeconds: SLEEP, oneBatch, machineDefault: { concurrency: machineDefault, ...byDefault } },
    };
  } finally {
    await rm(repository, { recursive: true, force: true });
  }
}
