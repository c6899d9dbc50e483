/**
 * One hand-computed example per billing rule the report applies. Prices: the us-east-1 figures of
 * AWS-FACTS.md (below); every expected figure is worked out in the comment beside it.
 */
import { describe, expect, it } from 'vitest';
import { modelledPullMs } from '../../../functions/domain/fargate/pull-model.js';
import type { Plan, PlannedStage } from '../../../functions/domain/plan/types.js';
import { githubHostedJobCost } from '../../../functions/domain/pricing/github-hosted.js';
import { mergePriceBook } from '../../../functions/domain/pricing/override.js';
import { DEFAULT_PRICE_BOOK, priceBookInfo, type RegionPrices } from '../../../functions/domain/pricing/price-book.js';
import { buildReport, type BuildReportInput } from '../../../functions/domain/report/build-report.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import type { StageRunRecord } from '../../../functions/domain/report/run-record.js';
import type { StageResult } from '../../../functions/domain/report/types.js';
import { US_EAST_1_PRICES } from '../../support/us-east-1-prices.js';

const PRICES: RegionPrices = US_EAST_1_PRICES;

function stage(name: string, overrides: Partial<PlannedStage> = {}): PlannedStage {
  return {
    name, wave: 0, runner: 'lambda', reason: '', timeoutSeconds: 600, needs: [], upstream: [], commands: ['make'], env: {}, secrets: {}, artifacts: [], runAsRoot: false,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    lambda: { memoryMB: 1024, ephemeralStorageMB: 512, architecture: 'x86_64' },
    predictedDurationSeconds: 60, predictedFrom: 'timeout', predictedCostUsd: 0.001, ...overrides,
  };
}

function result(name: string, fields: Partial<StageResult> = {}): StageResult {
  return {
    buildId: 'b', stage: name, status: 'succeeded', runner: 'lambda', exitCode: 0, reason: '', startedAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T10:01:00.000Z',
    durationMs: 1000, peakMemoryMiB: 1, peakDiskMiB: 1, logKey: '', manifestKey: '', artifactCount: 0, artifactBytes: 0, ...fields,
  };
}

function build(stages: PlannedStage[], results: StageResult[], runs: StageRunRecord[] = [], extra: Partial<BuildReportInput> = {}): BuildReportInput {
  const plan: Plan = { version: 1, waves: [stages.map((s) => s.name)], stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: stages.reduce((s, x) => s + x.predictedCostUsd, 0), secretsWithheld: false };
  return {
    buildId: 'b', request: { repository: 'octo/app', ref: 'refs/heads/main', sha: 'abc' }, plan, results, runs, manifests: {},
    startedAt: '2026-11-30T10:00:00.000Z', finishedAt: '2026-11-30T10:05:00.000Z', costs: pricedCostModel(PRICES), network: { publicIpv4PerTask: false }, ...extra,
  };
}

const line = (report: ReturnType<typeof buildReport>, item: string) => report.costBreakdown.lines.filter((l) => l.item === item);

describe('Billing rules, each with a hand-computed example', () => {
  it('Lambda: the invocation (handler start to result) at 1 ms steps, plus INIT as GB-seconds without a request', () => {
    const report = buildReport(build([stage('unit')], [result('unit', { lambdaInvocation: { durationMs: 1045.2, initDurationMs: 250.4 } })]));
    // 1045.2 -> 1046 ms: 1 GB x 1.046 s x 0.0000166667 + 0.0000002 = 0.0000176333682
    expect(line(report, 'lambda')[0]).toMatchObject({ quantity: 1046, usd: 0.0000176334 });
    // INIT 250.4 -> 251 ms: 1 GB x 0.251 s x 0.0000166667 = 0.0000041833417
    expect(line(report, 'lambdaInit')[0]).toMatchObject({ quantity: 251, usd: 0.0000041833 });
    expect(report.stages[0]!.costUsd).toBeCloseTo(0.0000218167, 10);
  });

  it('escalation: the Lambda attempt that ran out of disk is billed from the usage its error carried', () => {
    const fargate = { capacityProvider: 'FARGATE' as const, spotFallback: false, pullStartedAt: 0, stoppedAt: 60_000, buildExitCode: 0 };
    const run: StageRunRecord = { stage: 'big', runner: 'fargate', escalation: { from: 'lambda', errorName: 'OutOfDisk', reason: 'disk', lambdaBilledMs: 30_000, lambdaInitMs: 0 }, fargate };
    const report = buildReport(build([stage('big')], [result('big', { runner: 'fargate', durationMs: 50_000 })], [run]));
    // 1 GB x 30 s x 0.0000166667 + 0.0000002 = 0.000500201 (was $0 when the error carried nothing)
    const attempt = line(report, 'lambda')[0]!;
    expect(attempt).toMatchObject({ quantity: 30_000, usd: 0.000500201, escalatedAttempt: true });
    // The stage's billed time stays the Fargate run's: 60 s.
    expect(report.stages[0]!.billedDurationMs).toBe(60_000);
  });

  it('CloudWatch Logs: the stage log bytes sent, per GB (2^30 bytes) ingested', () => {
    const report = buildReport(build([stage('unit')], [result('unit', { logBytes: 2 * 1024 * 1024 })]));
    // 2 MiB = 2/1024 GB x $0.50 = 0.0009765625
    expect(line(report, 'cloudWatchLogs')[0]).toMatchObject({ usd: 0.0009765625 });
    expect(report.costBreakdown.cloudWatchLogsUsd).toBe(0.0009765625);
  });

  it('public IPv4: each task with a public address, per hour held (pull start to stop)', () => {
    const run: StageRunRecord = { stage: 'image', runner: 'fargate', fargate: { capacityProvider: 'FARGATE', spotFallback: false, pullStartedAt: 1_000, stoppedAt: 62_200, buildExitCode: 0 } };
    const input = build([stage('image', { runner: 'fargate', lambda: undefined })], [result('image', { runner: 'fargate', durationMs: 50_000 })], [run], { network: { publicIpv4PerTask: true } });
    // 61.2 s / 3600 x $0.005 = 0.000085
    expect(line(buildReport(input), 'publicIpv4')[0]).toMatchObject({ usd: 0.000085 });
    expect(line(buildReport({ ...input, network: { publicIpv4PerTask: false } }), 'publicIpv4')).toEqual([]);
  });

  it('S3: counted requests by tier, plus the modelled Select stages and StageCredentials requests', () => {
    const input = build([stage('unit')], [result('unit', { s3Requests: { put: 3, get: 4 } })], [], { s3Requests: { put: 5, get: 6 } });
    const report = buildReport(input);
    // Counted: 3 + 5 PUT, 4 + 6 GET. Modelled: Select stages GETs the batch slice and the fail-fast record (2), the grant PUT (1), one session: GET grant + result (2).
    expect(line(report, 's3Tier1Requests')[0]).toMatchObject({ quantity: 9, usd: 0.000045 });
    expect(line(report, 's3Tier2Requests')[0]).toMatchObject({ quantity: 14, usd: 0.0000056 });
    expect(line(report, 's3Tier1Requests')[0]!.estimated).toBeUndefined();
    // A record without a count (written before counting): the whole S3 figure is the estimate, marked so.
    expect(line(buildReport({ ...input, results: [result('unit')] }), 's3Tier1Requests')[0]!.estimated).toBe(true);
  });

  it('GitHub-hosted runners: each job rounded up to a whole minute on the smallest covering runner', () => {
    // 61 s on 1 vCPU / 2 GB x86 -> 2 minutes on the 2-core runner at $0.006 = $0.012
    expect(githubHostedJobCost({ architecture: 'x86_64', vcpu: 1, memoryMiB: 2048, durationMs: 61_000 })).toEqual({ sku: 'ubuntu-latest (linux 2-core)', minutes: 2, costUsd: 0.012 });
    // 30 s on 4 vCPU / 8 GB arm64 -> 1 minute on linux_4_core_arm at $0.008
    expect(githubHostedJobCost({ architecture: 'arm64', vcpu: 4, memoryMiB: 8192, durationMs: 30_000 })).toMatchObject({ sku: 'linux_4_core_arm', minutes: 1, costUsd: 0.008 });
    const report = buildReport(build([stage('unit')], [result('unit', { durationMs: 61_000 })]));
    expect(report.comparison.githubHosted).toMatchObject({ totalUsd: 0.012, asOf: '2026-01-01' });
    expect(report.comparison.githubHosted.savedUsd).toBeCloseTo(0.012 - report.totalCostUsd, 12);
  });

  it('local Fargate start-up: 10 s plus the images (75 + 130 MiB) at 25 MiB/s', () => {
    // 10,000 + 205 / 25 x 1000 = 18,200 ms
    expect(modelledPullMs(['public.ecr.aws/docker/library/node:22-slim', 'public.ecr.aws/lambda/nodejs:22'])).toBe(18_200);
    // An image the model does not know: 300 MiB -> 10,000 + 3,000 + 12,000
    expect(modelledPullMs(['public.ecr.aws/docker/library/node:22-slim', 'ghcr.io/acme/builder:1'])).toBe(25_000);
    const run: StageRunRecord = { stage: 'image', runner: 'fargate', fargate: { capacityProvider: 'FARGATE', spotFallback: false, pullStartedAt: 0, stoppedAt: 61_000, pullEstimated: true, buildExitCode: 0 } };
    const report = buildReport(build([stage('image', { runner: 'fargate', lambda: undefined })], [result('image', { runner: 'fargate' })], [run]));
    expect(line(report, 'fargate')[0]).toMatchObject({ estimated: true, quantity: 61_000 });
  });

  it('the price book: every report names the region, date, source and overrides it priced with', () => {
    const book = mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'us-east-1': { fargateSpotDiscount: 0.6 } } }, 'prices.json');
    const costs = pricedCostModel(book.regions['us-east-1']!, priceBookInfo(book, 'eu-north-1'));
    const report = buildReport(build([stage('unit')], [result('unit')], [], { costs }));
    expect(report.priceBook).toEqual({ region: 'us-east-1', fallback: true, asOf: DEFAULT_PRICE_BOOK.asOf, source: `${DEFAULT_PRICE_BOOK.source}; overridden by prices.json`, overrides: ['prices.json: regions.us-east-1.fargateSpotDiscount'] });
  });

  it('same basis: a stage `if:` left out is predicted at $0, and the prediction adds orchestration and S3', () => {
    const input = build([stage('unit', { predictedCostUsd: 0.002 })], [result('unit')]);
    input.plan!.skipped = [{ name: 'deploy', reason: 'if: does not match push to main' }];
    const report = buildReport(input);
    expect(report.stages.find((s) => s.name === 'deploy')).toMatchObject({ status: 'skipped', predictedCostUsd: 0, costUsd: 0 });
    // Predicted: compute 0.002 + transitions (Plan, Run waves, Select, Run stages, Report, Choose runner, Run on Lambda = 7 x 0.000025)
    // + S3 modelled for the planned path; compared total to total.
    expect(report.comparison.predicted.computeUsd).toBe(0.002);
    expect(report.comparison.predicted.stateTransitionsUsd).toBeCloseTo(7 * 0.000025, 12);
    expect(report.predictedCostUsd).toBeCloseTo(0.002 + 7 * 0.000025 + report.comparison.predicted.s3RequestsUsd, 12);
    expect(report.comparison.differenceUsd).toBeCloseTo(report.totalCostUsd - report.predictedCostUsd, 12);
  });
});
