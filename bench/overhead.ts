/**
 * overhead: the wall time of `buildfarm run` on examples/hello-farm (a fresh process:
 * start-up, embedded S3, snapshot, the state machine, four stages on the local Lambda and
 * Fargate executors, artifacts, the report), against running the same commands directly in
 * one shell, stage after stage in plan order, in a copy of the example.
 */
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePipeline } from '../functions/domain/pipeline/parse.js';
import { computeWaves } from '../functions/domain/plan/waves.js';
import type { BuildReport } from '../functions/domain/report/types.js';
import { ROOT } from './lib/child.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { median, msSince, ratio, round } from './lib/stats.js';

export const OVERHEAD_RUNS = 3;
const EXAMPLE = join(ROOT, 'examples', 'hello-farm');

function run(command: string, args: string[], cwd: string): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = msSince(started);
      if (code !== 0) return reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      resolve({ ms, stdout });
    });
  });
}

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
    return (await run('sh', ['-c', script], copy)).ms;
  } finally {
    await rm(copy, { recursive: true, force: true });
  }
}

async function farmRun(): Promise<{ ms: number; report: BuildReport }> {
  const data = await mkdtemp(join(tmpdir(), 'bench-run-'));
  try {
    const { ms, stdout } = await run(process.execPath, [join(ROOT, 'bin', 'buildfarm.mjs'), 'run', EXAMPLE, '--json', '--data', data], ROOT);
    const report = JSON.parse(stdout) as BuildReport;
    if (report.status !== 'succeeded') throw new Error(`buildfarm run on the example ${report.status}`);
    return { ms, report };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

export async function benchOverhead(): Promise<SectionResult> {
  const direct = await directScript();
  // One unmeasured round: tsx's compile cache and the file cache start warm for every measured run.
  await farmRun();
  await directRun(direct.script);
  const farm: Array<{ ms: number; buildMs: number }> = [];
  const shell: number[] = [];
  for (let i = 0; i < OVERHEAD_RUNS; i += 1) {
    const result = await farmRun();
    farm.push({ ms: result.ms, buildMs: result.report.durationMs });
    shell.push(await directRun(direct.script));
  }
  const farmMs = round(median(farm.map((r) => r.ms)));
  const buildMs = round(median(farm.map((r) => r.buildMs)));
  const shellMs = round(median(shell));
  const overheadMs = round(farmMs - shellMs);
  const figures: Figure[] = [
    {
      section: 'overhead',
      name: 'buildfarm run on examples/hello-farm',
      value: farmMs,
      unit: 'ms',
      how: `wall time of \`buildfarm run examples/hello-farm --json --data <tmp>\` in a fresh process (${direct.stages} stages, ${direct.commands} commands), median of ${OVERHEAD_RUNS}; of which the build itself (plan to report, as the report states) ${buildMs} ms`,
      baseline: { name: 'the same commands in one shell, in plan order', value: shellMs, unit: 'ms' },
      ratio: ratio(farmMs, shellMs),
    },
    {
      section: 'overhead',
      name: 'time the farm adds to a build',
      value: overheadMs,
      unit: 'ms',
      how: `the run above less the direct shell run, medians of ${OVERHEAD_RUNS}; with only ${direct.commands} tiny commands this is almost all fixed cost (process start-up, TypeScript loading, the embedded S3, snapshot, four stage sandboxes, artifacts, the report)`,
      goal: below(overheadMs, 2000, '< 2 s'),
    },
    {
      section: 'overhead',
      name: 'of which inside the build (plan to report)',
      value: round(buildMs - shellMs),
      unit: 'ms',
      how: `the report's durationMs less the direct shell run: the state machine, snapshot, sandboxes, artifacts and report; the rest (${round(farmMs - buildMs)} ms) is the CLI process starting (Node, tsx, the SDK) and the embedded S3 starting and stopping`,
    },
  ];
  return { figures, details: { runs: OVERHEAD_RUNS, farm: farm.map((r) => ({ ms: round(r.ms), buildMs: r.buildMs })), shell: shell.map((ms) => round(ms)), script: direct.script } };
}
