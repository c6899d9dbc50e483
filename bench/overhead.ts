/**
 * overhead: first the fixed overhead on a one-stage `true` pipeline, taken apart
 * (overhead-breakdown.ts: the goal's figure); then the wall time of `buildfarm run` on examples/hello-farm (a fresh process:
 * start-up, embedded S3, snapshot, the state machine, four stages on the local Lambda and
 * Fargate executors, artifacts, the report), against running the same commands directly in
 * one shell, stage after stage in plan order, in a copy of the example.
 *
 * The CLI runs from its bundle (dist/cli, built first, as `npm run build` does), and, in the same
 * run for comparison, from its TypeScript sources through tsx (BUILDFARM_CLI=source). Set
 * BENCH_OVERHEAD_BASELINE_BIN to another checkout's bin/buildfarm.mjs to measure it beside them
 * (how docs/performance.md's "before" figures were taken).
 */
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types.
import { bundleCli } from '../scripts/bundle.mjs';
import { parsePipeline } from '../functions/domain/pipeline/parse.js';
import { computeWaves } from '../functions/domain/plan/waves.js';
import type { BuildReport } from '../functions/domain/report/types.js';
import { ROOT } from './lib/child.js';
import { overheadBreakdown } from './overhead-breakdown.js';
import type { Figure, SectionResult } from './lib/figure.js';
import { median, ratio, round } from './lib/stats.js';
import { timedRun } from './lib/timed-run.js';

export const OVERHEAD_RUNS = 3;
const EXAMPLE = join(ROOT, 'examples', 'hello-farm');

/** Single-quoted for sh. */
function quote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The example's commands as one shell script: each stage in a subshell with its env, in wave order. */
async function directScript(): Promise<{ script: string; stages: number; commands: number }> {
  const pipeline = parsePipeline(await readFile(join(EXAMPLE, '.buildfarm.yml'), 'utf8'));
  const byName = new Map(pipeline.stages.map((stage) => [stage.name, stage]));
  const lines = ['set -e'];
  let commands = 0;
  for (const name of computeWaves(pipeline.stages).flat()) {
    const stage = byName.get(name)!;
    const exports = Object.entries(stage.env).map(([key, value]) => `export ${key}=${quote(value)}`);
    lines.push(`( ${[...exports, ...stage.commands].join('\n')} ) > /dev/null`);
    commands += stage.commands.length;
  }
  return { script: lines.join('\n'), stages: pipeline.stages.length, commands };
}

async function directRun(script: string): Promise<number> {
  const copy = await mkdtemp(join(tmpdir(), 'bench-direct-'));
  try {
    await cp(EXAMPLE, copy, { recursive: true });
    return (await timedRun('sh', ['-c', script], copy)).ms;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

/** How the CLI is started: the bundle, the TypeScript sources through tsx, or another checkout. */
interface Variant {
  name: string;
  bin: string;
  env: NodeJS.ProcessEnv;
}

async function farmRun(variant: Variant): Promise<{ ms: number; report: BuildReport }> {
  const data = await mkdtemp(join(tmpdir(), 'bench-run-'));
  try {
    const { ms, stdout } = await timedRun(process.execPath, [variant.bin, 'run', EXAMPLE, '--json', '--data', data], ROOT, { ...process.env, ...variant.env });
    const report = JSON.parse(stdout) as BuildReport;
    if (report.status !== 'succeeded') throw new Error(`buildfarm run on the example ${report.status}`);
    return { ms, report };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

function variants(): Variant[] {
  const bin = join(ROOT, 'bin', 'buildfarm.mjs');
  const list: Variant[] = [
    { name: 'bundle', bin, env: { BUILDFARM_CLI: 'bundle' } },
    { name: 'tsx', bin, env: { BUILDFARM_CLI: 'source' } },
  ];
  const baseline = process.env.BENCH_OVERHEAD_BASELINE_BIN;
  if (baseline) list.push({ name: 'baseline', bin: baseline, env: {} });
  return list;
}

export async function benchOverhead(): Promise<SectionResult> {
  const direct = await directScript();
  await bundleCli();
  const breakdown = await overheadBreakdown();
  const measured = variants();
  // One unmeasured round: tsx's compile cache and the file cache start warm for every measured run.
  for (const variant of measured) await farmRun(variant);
  await directRun(direct.script);
  const farm = new Map<string, Array<{ ms: number; buildMs: number }>>(measured.map((v) => [v.name, []]));
  const shell: number[] = [];
  // Interleaved, so load from other processes on the machine falls on every variant alike.
  for (let i = 0; i < OVERHEAD_RUNS; i += 1) {
    for (const variant of measured) {
      const result = await farmRun(variant);
      farm.get(variant.name)!.push({ ms: result.ms, buildMs: result.report.durationMs });
    }
    shell.push(await directRun(direct.script));
  }
  const shellMs = round(median(shell));
  const figures: Figure[] = [...breakdown.figures];
  for (const variant of measured) {
    const runs = farm.get(variant.name)!;
    const farmMs = round(median(runs.map((r) => r.ms)));
    const fixedMs = round(median(runs.map((r) => r.ms - r.buildMs)));
    const label = variant.name === 'bundle' ? 'the CLI bundle (dist/cli)' : variant.name === 'tsx' ? 'the TypeScript sources through tsx (BUILDFARM_CLI=source)' : `${variant.bin} (BENCH_OVERHEAD_BASELINE_BIN)`;
    figures.push(
      {
        section: 'overhead',
        name: `buildfarm run on examples/hello-farm, from ${label}`,
        value: farmMs,
        unit: 'ms',
        how: `wall time of \`buildfarm run examples/hello-farm --json --data <tmp>\` in a fresh process (${direct.stages} stages, ${direct.commands} commands), median of ${OVERHEAD_RUNS}`,
        baseline: { name: 'the same commands in one shell, in plan order', value: shellMs, unit: 'ms' },
        ratio: ratio(farmMs, shellMs),
      },
      {
        section: 'overhead',
        name: `fixed overhead above the build itself, from ${label}`,
        value: fixedMs,
        unit: 'ms',
        how: `wall time less the report's durationMs (plan to report), median of ${OVERHEAD_RUNS}: Node and module loading, the embedded S3 starting and stopping, the sandbox probe, git, argument parsing`,
      },
    );
  }
  const bundle = farm.get('bundle')!;
  const buildMs = round(median(bundle.map((r) => r.buildMs)));
  figures.push({
    section: 'overhead',
    name: 'of which inside the build (plan to report)',
    value: round(buildMs - shellMs),
    unit: 'ms',
    how: `the report's durationMs (bundle runs) less the direct shell run: the state machine, snapshot, sandboxes, artifacts and report`,
  });
  return { figures, details: { breakdown: breakdown.details, runs: OVERHEAD_RUNS, farm: Object.fromEntries(farm), shell: shell.map((ms) => round(ms)), script: direct.script } };
}
