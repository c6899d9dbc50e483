/**
 * express: an express-sized project (bench/fixtures/express-like: express, eslint, mocha +
 * supertest, about 250 packages from the npm registry) built install -> lint || test -> pack,
 * in one run four ways:
 *
 * - by hand, cold: the same commands in a fresh checkout, one after another, with an empty
 *   npm cache (a HOME of its own);
 * - by hand, warm: again in a fresh checkout, the npm cache now full;
 * - the farm, cold: `buildfarm run` on a new data directory (cache miss: npm downloads);
 * - the farm, warm: `buildfarm run` again on the same data directory (cache hit on ~/.npm);
 * - the farm, warm, handed over: the same `buildfarm run` with a `buildfarm serve` running on that
 *   data directory, which takes the build (functions/local/run-handoff/): the CLI's start-up is
 *   then Node's start and a socket, as for a user who keeps the farm running.
 *
 * The warm runs are repeated (`BENCH_EXPRESS_RUNS`, default 3; 1 for `quick`), each by-hand run
 * beside a farm run, and medians are given: one run of each moved by a second or more here.
 *
 * Both sides use the same node (the stage's Node 22) and npm, with CI=true and the same
 * NODE_EXTRA_CA_CERTS when this machine needs one (express-fixture.ts trustEnv). Issue 12's goal:
 * the farm warm at most 1.15x by hand warm. Where the farm's time goes is taken from each
 * stage's `phases` in the report (runner/phase-clock.ts) and from the report's timestamps.
 *
 * Needs the npm registry: when it cannot be reached the section is skipped with a note.
 * `quick` builds a project without dependencies instead (no network), for the test that
 * keeps this module working (test/bench/express-bench.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error: a plain .mjs script without types.
import { bundleCli } from '../scripts/bundle.mjs';
import type { BuildReport } from '../functions/domain/report/types.js';
import { localStageRuntimeEnv } from '../functions/local/stage-environment.js';
import { ROOT } from './lib/child.js';
import { checkout, EXPRESS_COMMANDS, expressRepository, trustEnv } from './lib/express-fixture.js';
import { serveFarm } from './lib/serve-farm.js';
import { farmBreakdown, type FarmBreakdown } from './lib/farm-breakdown.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { median, ratio, round } from './lib/stats.js';
import { timedRun } from './lib/timed-run.js';

export interface ExpressOptions {
  /** The dependency-free project: nothing from the network. */
  quick?: boolean;
  /** The registry to check before a full run (default: npm's configured one, else registry.npmjs.org). */
  registry?: string;
  /** Build dist/cli first (default true; the test suite's global setup has built it already). */
  bundle?: boolean;
}

const GOAL_RATIO = 1.15;
const BIN = join(ROOT, 'bin', 'buildfarm.mjs');
const BUNDLE_ENV = { ...process.env, BUILDFARM_CLI: 'bundle' };

/** Why the registry cannot be used, or undefined when it answers. */
export async function registryProblem(registry: string): Promise<string | undefined> {
  const url = new URL('express', registry.endsWith('/') ? registry : `${registry}/`);
  try {
    const response = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(10_000) });
    return response.ok ? undefined : `${url} answered ${response.status}`;
  } catch (error) {
    return `${url} is unreachable (${(error as Error).message})`;
  }
}

/** The commands by hand: a fresh checkout, `home` as HOME (its ~/.npm is the npm cache). */
async function byHand(repository: string, home: string): Promise<number> {
  const dir = await checkout(repository);
  try {
    const script = Object.values(EXPRESS_COMMANDS).join(' && ');
    const env = { ...localStageRuntimeEnv(), ...trustEnv(), HOME: home, CI: 'true' };
    return (await timedRun('sh', ['-c', `${script} > /dev/null`], dir, env)).ms;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function byFarm(repository: string, data: string): Promise<{ ms: number; report: BuildReport }> {
  const { ms, stdout } = await timedRun(process.execPath, [BIN, 'run', repository, '--json', '--data-dir', data], ROOT, BUNDLE_ENV);
  const report = JSON.parse(stdout) as BuildReport;
  if (report.status !== 'succeeded') throw new Error(`buildfarm run ${report.status}: ${report.stages.map((s) => `${s.name} ${s.status} ${s.reason}`).join('; ')}`);
  return { ms, report };
}

export async function benchExpress(options: ExpressOptions = {}): Promise<SectionResult> {
  if (!options.quick) {
    const registry = options.registry ?? process.env.npm_config_registry ?? 'https://registry.npmjs.org/';
    const problem = await registryProblem(registry);
    if (problem) return { figures: [], details: { skipped: problem }, notes: [`express skipped: it installs about 250 packages from the npm registry, and ${problem}`] };
  }
  if (options.bundle !== false) await bundleCli();
  const repository = await expressRepository({ quick: options.quick });
  const home = await mkdtemp(join(tmpdir(), 'bench-express-home-'));
  const data = await mkdtemp(join(tmpdir(), 'bench-express-data-'));
  try {
    // Cold first on both sides (empty npm cache, new data directory), then warm: each warm run has its cold run's cache.
    const handCold = await byHand(repository, home);
    const farmCold = await byFarm(repository, data);
    const runs = options.quick ? 1 : Number(process.env.BENCH_EXPRESS_RUNS ?? 3);
    const handWarm: number[] = [];
    const farmWarm: FarmRun[] = [];
    for (let run = 0; run < runs; run += 1) {
      handWarm.push(await byHand(repository, home));
      farmWarm.push(await byFarm(repository, data));
    }
    // With a farm running on the data directory, `run` hands its build over instead of starting one.
    const served = await serveFarm(BIN, data, BUNDLE_ENV);
    const farmHanded: FarmRun[] = [];
    try {
      for (let run = 0; run < runs; run += 1) {
        handWarm.push(await byHand(repository, home));
        const handed = await byFarm(repository, data);
        if (!served.output().includes(handed.report.buildId)) throw new Error('buildfarm run did not hand its build to the running serve');
        farmHanded.push(handed);
      }
    } finally {
      await served.stop();
    }
    return expressFigures({ handCold, handWarm: median(handWarm), farmCold, farmWarm: medianRun(farmWarm), farmHanded: medianRun(farmHanded), quick: options.quick === true });
  } finally {
    await Promise.all([repository, home, data].map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

type FarmRun = { ms: number; report: BuildReport };

/** The run of median wall time (the lower middle one of an even count), with its own report. */
function medianRun(runs: FarmRun[]): FarmRun {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

interface Measured {
  handCold: number;
  handWarm: number;
  farmCold: FarmRun;
  farmWarm: FarmRun;
  farmHanded: FarmRun;
  quick: boolean;
}

function expressFigures(measured: Measured): SectionResult {
  const { handCold, handWarm, farmCold, farmWarm, farmHanded } = measured;
  const project = measured.quick ? 'the dependency-free quick project' : 'bench/fixtures/express-like (about 250 packages)';
  const how = (side: string) => `${side} on ${project}: install -> lint, test -> pack`;
  const cold = farmBreakdown(farmCold.report, farmCold.ms);
  const warm = farmBreakdown(farmWarm.report, farmWarm.ms);
  const figures: Figure[] = [
    { section: 'express', name: 'by hand, cold npm cache', value: round(handCold), unit: 'ms', how: how('the four commands in one shell, in a fresh checkout, with an empty ~/.npm') },
    { section: 'express', name: 'by hand, warm npm cache', value: round(handWarm), unit: 'ms', how: how('the same, in a new checkout, the npm cache kept (median of the runs beside the warm farm runs)') },
    {
      section: 'express',
      name: `buildfarm run, cold (cache ${cold.cacheResult})`,
      value: round(farmCold.ms),
      unit: 'ms',
      how: how('wall time of `buildfarm run --json` on a new data directory'),
      baseline: { name: 'by hand, cold', value: round(handCold), unit: 'ms' },
      ratio: ratio(farmCold.ms, handCold),
    },
    {
      section: 'express',
      name: `buildfarm run, warm (cache ${warm.cacheResult})`,
      value: round(farmWarm.ms),
      unit: 'ms',
      how: how('wall time of `buildfarm run --json` again on the same data directory (median)'),
      baseline: { name: 'by hand, warm', value: round(handWarm), unit: 'ms' },
      ratio: ratio(farmWarm.ms, handWarm),
      goal: below(farmWarm.ms / handWarm, GOAL_RATIO + 1e-9, `<= ${GOAL_RATIO}x by hand, warm`),
    },
    {
      section: 'express',
      name: 'buildfarm run handed to a running serve, warm',
      value: round(farmHanded.ms),
      unit: 'ms',
      how: how('wall time of the same `buildfarm run --json` with `buildfarm serve` running on the data directory, which takes the build (median)'),
      baseline: { name: 'by hand, warm', value: round(handWarm), unit: 'ms' },
      ratio: ratio(farmHanded.ms, handWarm),
      goal: below(farmHanded.ms / handWarm, GOAL_RATIO + 1e-9, `<= ${GOAL_RATIO}x by hand, warm`),
    },
    ...breakdownFigures(warm, 'warm'),
  ];
  const handed = farmBreakdown(farmHanded.report, farmHanded.ms);
  return { figures, details: { quick: measured.quick, handCold, handWarm, farmCold: summary(farmCold, cold), farmWarm: summary(farmWarm, warm), farmHanded: summary(farmHanded, handed) } };
}

/** The warm run's time by where it went: summed over stages, then the farm's own time around them. */
function breakdownFigures(breakdown: FarmBreakdown, run: string): Figure[] {
  const rows: Array<[string, number, string]> = [
    ['commands (the build itself)', breakdown.phases.commandsMs - breakdown.phases.sandboxStartMs, 'the stages\' commands, less the sandbox start'],
    ['sandbox start', breakdown.phases.sandboxStartMs, 'bwrap and slirp4netns until each command may run'],
    ['snapshot download + unpack', breakdown.phases.snapshotMs, 'each stage fetching and unpacking the source snapshot'],
    ['cache restore', breakdown.phases.cacheRestoreMs, 'key, list, download and unpack of ~/.npm'],
    ['cache save', breakdown.phases.cacheSaveMs, 'pack and upload of ~/.npm (none after an exact hit)'],
    ['artifacts pack + upload', breakdown.phases.artifactsOutMs, 'find, pack and upload of node_modules and the tarball'],
    ['artifacts download + unpack', breakdown.phases.artifactsInMs, 'node_modules unpacked into lint, test and pack'],
    ['stage bookkeeping', breakdown.stageOtherMs, 'stage time outside the phases: log and result uploads, the agent starting'],
    ['between stages', breakdown.orchestrationMs, 'build time less the critical path of stage times: the state machine, plan, report'],
    ['CLI fixed overhead', breakdown.fixedMs, 'wall time less the build: start-up, embedded S3, sandbox probe, exports'],
  ];
  const buildLevel = new Set(['between stages', 'CLI fixed overhead']);
  return rows.map(([name, value, how]) => ({
    section: 'express',
    name: `farm ${run}: ${name}`,
    value: round(value),
    unit: 'ms',
    how: buildLevel.has(name) ? `once per build: ${how}` : `summed over the 4 stages (lint and test run at the same time): ${how}`,
  }));
}

function summary(run: { ms: number; report: BuildReport }, breakdown: FarmBreakdown): Record<string, unknown> {
  return {
    wallMs: run.ms,
    buildMs: run.report.durationMs,
    breakdown,
    stages: run.report.stages.map((stage) => ({ name: stage.name, runner: stage.runner, durationMs: stage.durationMs, phases: stage.phases, cache: stage.cache })),
  };
}
