/**
 * chain: a chain of 50 stages with no artifacts (s1 -> s2 -> ... -> s50) through the local farm
 * (the real state machine, handlers and agent, the embedded S3 behind a counting proxy). Issue 12
 * found both the S3 requests and the time per stage growing with the stage's position (every
 * stage read every upstream record); linear cost means the last stages cost what the first do.
 *
 * A stage's share is everything between the PUT of the previous stage's result record and the
 * PUT of its own: the release of its wait, its run (source, log, manifest, result) and, at a
 * batch's start, `Select stages`. Stage 1 is left out (its window holds the plan's work), so the
 * first ten are s2..s11 and the last ten s41..s50: the baseline is the same build's first ten.
 */
import { rm } from 'node:fs/promises';
import { stageResultKey } from '../functions/domain/storage-keys.js';
import { defaultStageConcurrency } from '../functions/local/stage-concurrency.js';
import type { Figure, SectionResult } from './lib/figure.js';
import { buildLocally, repositoryWith } from './lib/local-build.js';
import type { ProxiedRequest } from './lib/counting-proxy.js';
import { median, ratio, round, slope } from './lib/stats.js';

export const CHAIN_STAGES = 50;
const SAMPLE = 10;

export function chainYaml(length: number): string {
  const lines = ['version: 1', 'stages:'];
  for (let i = 1; i <= length; i += 1) {
    lines.push(`  s${i}:`, '    runner: lambda', `    commands: [echo ${i}]`);
    if (i > 1) lines.push(`    needs: [s${i - 1}]`);
  }
  return `${lines.join('\n')}\n`;
}

interface StageShare {
  stage: string;
  requests: number;
  gets: number;
  puts: number;
  /** From the previous stage's result PUT to this one's. */
  cycleMs: number;
  /** The stage's own run, from its result record. */
  runMs: number;
}

/** Cuts the request log at each stage's result PUT (arrival order, so no clock is involved). */
export function sharesOf(requests: ProxiedRequest[], buildId: string, stages: { name: string; durationMs: number }[]): StageShare[] {
  const boundary = stages.map(({ name }) => {
    const key = stageResultKey(buildId, name);
    const put = requests.find((r) => r.method === 'PUT' && r.path.split('?')[0]!.endsWith(`/${key}`));
    if (!put) throw new Error(`no PUT of ${key} reached S3`);
    return put;
  });
  return stages.slice(1).map((stage, index) => {
    const from = boundary[index]!;
    const to = boundary[index + 1]!;
    const window = requests.filter((r) => r.order > from.order && r.order <= to.order);
    return {
      stage: stage.name,
      requests: window.length,
      gets: window.filter((r) => r.method === 'GET' || r.method === 'HEAD').length,
      puts: window.filter((r) => r.method === 'PUT' || r.method === 'POST').length,
      cycleMs: to.at - from.at,
      runMs: stage.durationMs,
    };
  });
}

export async function benchChain(): Promise<SectionResult> {
  const repository = await repositoryWith(chainYaml(CHAIN_STAGES));
  const concurrency = defaultStageConcurrency();
  try {
    const buildId = 'bench-chain';
    const { report, s3Requests, stateTransitions } = await buildLocally(repository, buildId, { countRequests: true });
    if (report.status !== 'succeeded') throw new Error(`the chain build ${report.status}: ${JSON.stringify(report.error ?? report.stages.find((s) => s.status !== 'succeeded'))}`);
    const ordered = Array.from({ length: CHAIN_STAGES }, (_, i) => report.stages.find((s) => s.name === `s${i + 1}`)!);
    const shares = sharesOf(s3Requests!, buildId, ordered);
    const first = shares.slice(0, SAMPLE);
    const last = shares.slice(-SAMPLE);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const firstRequests = round(mean(first.map((s) => s.requests)));
    const lastRequests = round(mean(last.map((s) => s.requests)));
    const firstCycle = round(median(first.map((s) => s.cycleMs)));
    const lastCycle = round(median(last.map((s) => s.cycleMs)));
    const firstRun = round(median(first.map((s) => s.runMs)));
    const lastRun = round(median(last.map((s) => s.runMs)));
    const requestTrend = round(slope(shares.map((s) => s.requests)), 2);
    const cycleTrend = round(slope(shares.map((s) => s.cycleMs)), 2);
    const where = `a chain of ${CHAIN_STAGES} Lambda stages without artifacts through the local farm (MaxStageConcurrency ${concurrency}, this machine's cores: batches of ${concurrency}), requests counted at a proxy in front of the embedded S3, cut at each stage's result PUT`;
    const figures: Figure[] = [
      {
        section: 'chain',
        name: `S3 requests per stage, last ${SAMPLE} of ${CHAIN_STAGES}`,
        value: lastRequests,
        unit: 'requests',
        how: `${where}; mean over s${CHAIN_STAGES - SAMPLE + 1}..s${CHAIN_STAGES} (GET/HEAD ${round(mean(last.map((s) => s.gets)))}, PUT/POST ${round(mean(last.map((s) => s.puts)))}); trend over s2..s${CHAIN_STAGES}: ${requestTrend} requests more per position (least squares); ${s3Requests!.length} requests in the whole build`,
        baseline: { name: `the same build's s2..s${SAMPLE + 1}`, value: firstRequests, unit: 'requests' },
        ratio: ratio(lastRequests, firstRequests),
        goal: { text: 'constant per stage (ratio <= 1.1)', met: lastRequests <= firstRequests * 1.1 },
      },
      {
        section: 'chain',
        name: `time per stage (result to result), last ${SAMPLE} of ${CHAIN_STAGES}`,
        value: lastCycle,
        unit: 'ms',
        how: `${where}; median of the time from the previous stage's result PUT to this stage's (the release, the run and its records); the stage's own run (its result's durationMs): ${firstRun} ms first ${SAMPLE}, ${lastRun} ms last ${SAMPLE}; trend over s2..s${CHAIN_STAGES}: ${cycleTrend} ms more per position (least squares; the load of a shared machine moves it)`,
        baseline: { name: `the same build's s2..s${SAMPLE + 1}`, value: firstCycle, unit: 'ms' },
        ratio: ratio(lastCycle, firstCycle),
        goal: { text: 'constant per stage (ratio <= 1.25, a loaded machine)', met: lastCycle <= firstCycle * 1.25 },
      },
    ];
    return {
      figures,
      details: { requestTrendPerPosition: requestTrend, cycleMsTrendPerPosition: cycleTrend, stages: CHAIN_STAGES, maxStageConcurrency: concurrency, totalRequests: s3Requests!.length, stateTransitions, buildDurationMs: report.durationMs, perStage: shares },
    };
  } finally {
    await rm(repository, { recursive: true, force: true });
  }
}
