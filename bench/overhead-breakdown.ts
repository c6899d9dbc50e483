/**
 * The fixed overhead of `buildfarm run`, taken apart on the smallest build there is: a
 * repository whose pipeline is one stage running `true`. In the same run, interleaved, each
 * repetition times:
 *
 *   - `sh -c true`: the build by hand;
 *   - `node -e 0`: Node's own start, which no CLI written for Node can avoid;
 *   - `buildfarm run --help` (the bundle): Node, the wrapper's freshness check, and loading the
 *     CLI's main module and the run command's chunk, then nothing (the farm itself, s3rver
 *     included, loads only past --help: its loading falls in "the rest");
 *   - `buildfarm run <repo> --json` (the bundle): the whole thing, with the report's own
 *     `durationMs` (plan to report: the state machine, the snapshot, the stage, the report);
 *   - the same with a `buildfarm serve` already running on its data directory: the build handed
 *     to the farm there (functions/local/run-handoff/), whose code and one build process are
 *     loaded before `run` starts.
 *
 * "Fixed overhead above the build" = wall time less `durationMs`: what a build costs whatever
 * its pipeline (start-up, the embedded S3 starting and stopping, git, the sandbox probe, the
 * build's files written out). The breakdown splits it into Node's start, module loading, and
 * the rest. The work inside `durationMs` above the stage's own time is reported beside it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BuildReport } from '../functions/domain/report/types.js';
import { ROOT } from './lib/child.js';
import { below, type Figure } from './lib/figure.js';
import { serveFarm, type ServedFarm } from './lib/serve-farm.js';
import { median, round } from './lib/stats.js';
import { timedRun } from './lib/timed-run.js';

export const BREAKDOWN_RUNS = Number(process.env.BENCH_OVERHEAD_RUNS ?? 5);
const BIN = join(ROOT, 'bin', 'buildfarm.mjs');
const BUNDLE_ENV = { ...process.env, BUILDFARM_CLI: 'bundle' };

/** A one-commit repository whose pipeline is one stage running `true`. */
async function trueRepository(): Promise<string> {
  const path = await mkdtemp(join(tmpdir(), 'bench-true-'));
  await writeFile(join(path, '.buildfarm.yml'), 'version: 1\nstages:\n  only:\n    commands:\n      - "true"\n');
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path, stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-q', '-m', 'one stage: true');
  return path;
}

interface Sample {
  byHandMs: number;
  nodeMs: number;
  helpMs: number;
  runMs: number;
  buildMs: number;
  stageMs: number;
  handedMs: number;
  handedBuildMs: number;
}

async function sample(repository: string, served: { data: string; farm: ServedFarm }): Promise<Sample> {
  const byHandMs = (await timedRun('sh', ['-c', 'true'], ROOT)).ms;
  const nodeMs = (await timedRun(process.execPath, ['-e', '0'], ROOT)).ms;
  const helpMs = (await timedRun(process.execPath, [BIN, 'run', '--help'], ROOT, BUNDLE_ENV)).ms;
  const data = await mkdtemp(join(tmpdir(), 'bench-true-data-'));
  try {
    const run = await timedRun(process.execPath, [BIN, 'run', repository, '--json', '--data-dir', data], ROOT, BUNDLE_ENV);
    const report = JSON.parse(run.stdout) as BuildReport;
    if (report.status !== 'succeeded') throw new Error(`buildfarm run on the one-stage pipeline ${report.status}`);
    const handed = await timedRun(process.execPath, [BIN, 'run', repository, '--json', '--data-dir', served.data], ROOT, BUNDLE_ENV);
    const handedReport = JSON.parse(handed.stdout) as BuildReport;
    if (!served.farm.output().includes(handedReport.buildId)) throw new Error(`buildfarm run did not hand its build to the running serve: ${handed.stderr}`);
    if (handedReport.status !== 'succeeded') throw new Error(`buildfarm run handed to serve: the build ${handedReport.status}`);
    return {
      byHandMs,
      nodeMs,
      helpMs,
      runMs: run.ms,
      buildMs: report.durationMs,
      stageMs: report.stages[0]?.durationMs ?? 0,
      handedMs: handed.ms,
      handedBuildMs: handedReport.durationMs,
    };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

/** Figures of the breakdown; the bundle must be built and fresh (benchOverhead builds it first). */
export async function overheadBreakdown(): Promise<{ figures: Figure[]; details: Record<string, unknown> }> {
  const repository = await trueRepository();
  const servedData = await mkdtemp(join(tmpdir(), 'bench-true-served-'));
  const farm = await serveFarm(BIN, servedData, BUNDLE_ENV);
  const served = { data: servedData, farm };
  const samples: Sample[] = [];
  try {
    await sample(repository, served); // unmeasured: the file cache warm for every measured run
    for (let i = 0; i < BREAKDOWN_RUNS; i += 1) samples.push(await sample(repository, served));
  } finally {
    await farm.stop();
    await rm(repository, { recursive: true, force: true });
    await rm(servedData, { recursive: true, force: true });
  }
  const m = (pick: (s: Sample) => number) => round(median(samples.map(pick)));
  const fixed = m((s) => s.runMs - s.buildMs);
  const handedFixed = m((s) => s.handedMs - s.handedBuildMs);
  const how = `median of ${BREAKDOWN_RUNS}, interleaved with the others`;
  const figure = (name: string, value: number, text: string, extra: Partial<Figure> = {}): Figure => ({ section: 'overhead', name, value, unit: 'ms', how: `${text}, ${how}`, ...extra });
  const figures: Figure[] = [
    figure('one-stage `true` pipeline: fixed overhead above the build', fixed, "`buildfarm run <repo> --json` from the bundle, wall time less the report's durationMs (plan to report)", {
      baseline: { name: '`true` by hand (sh -c true)', value: m((s) => s.byHandMs), unit: 'ms' },
      goal: below(fixed, 300, '< 0.3 s (issue 12)'),
    }),
    figure('  of which Node starting (node -e 0)', m((s) => s.nodeMs), 'a bare Node process'),
    figure('  of which starting the CLI (run --help less node -e 0)', m((s) => s.helpMs - s.nodeMs), '`buildfarm run --help` from the bundle: the wrapper, the main module and the run chunk'),
    figure('  of which the rest (loading the farm and s3rver, embedded S3, git, sandbox probe, files out)', m((s) => s.runMs - s.buildMs - s.helpMs), 'wall time less durationMs less `run --help`'),
    figure('one-stage `true` pipeline: fixed overhead, handed to a running `buildfarm serve`', handedFixed, "the same `buildfarm run` with `buildfarm serve` running on its data directory (the build handed to it), wall time less durationMs", {
      baseline: { name: 'built in its own process (above)', value: fixed, unit: 'ms' },
      goal: below(handedFixed, 300, '< 0.3 s (issue 12)'),
    }),
    figure('one-stage `true` pipeline: the build through the state machine', m((s) => s.buildMs), "the report's durationMs: plan, snapshot, the stage on the local Lambda executor, artifacts, report", {
      baseline: { name: "the stage's own durationMs", value: m((s) => s.stageMs), unit: 'ms' },
    }),
  ];
  return { figures, details: { runs: BREAKDOWN_RUNS, samples: samples.map((s) => Object.fromEntries(Object.entries(s).map(([k, v]) => [k, round(v)]))) } };
}
