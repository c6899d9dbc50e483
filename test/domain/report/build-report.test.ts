import { describe, expect, it } from 'vitest';
import { buildReport, type BuildReportInput } from '../../../functions/domain/report/build-report.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import type { RegionPrices } from '../../../functions/domain/pricing/price-book.js';
import type { Plan, PlannedStage } from '../../../functions/domain/plan/types.js';
import type { StageRunRecord } from '../../../functions/domain/report/run-record.js';
import type { StageResult } from '../../../functions/domain/report/types.js';
import { US_EAST_1_PRICES } from '../../support/us-east-1-prices.js';

const PRICES: RegionPrices = US_EAST_1_PRICES;

function planned(name: string, overrides: Partial<PlannedStage>): PlannedStage {
  return {
    name,
    wave: 0,
    runner: 'lambda',
    reason: '',
    timeoutSeconds: 600,
    needs: [],
    upstream: [],
    commands: ['make'],
    env: {},
    secrets: {},
    artifacts: [],
    runAsRoot: false,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    predictedDurationSeconds: 60,
    predictedFrom: 'timeout',
    predictedCostUsd: 0.001,
    ...overrides,
  };
}

function result(stage: string, runner: 'lambda' | 'fargate', durationMs: number): StageResult {
  return {
    buildId: 'b',
    stage,
    status: 'succeeded',
    runner,
    exitCode: 0,
    reason: '',
    startedAt: '2026-11-22T10:00:00.000Z',
    finishedAt: '2026-11-22T10:01:00.000Z',
    durationMs,
    peakMemoryMiB: 1,
    peakDiskMiB: 1,
    logKey: `builds/b/stages/${stage}/log.txt`,
    manifestKey: `builds/b/stages/${stage}/manifest.json`,
    artifactCount: 0,
    artifactBytes: 0,
  };
}

function input(): BuildReportInput {
  const stages = [
    planned('unit', { runner: 'lambda', lambda: { memoryMB: 1024, ephemeralStorageMB: 512, architecture: 'x86_64' } }),
    planned('image', { runner: 'fargate' }),
    planned('arm', { runner: 'fargate', fargate: { cpu: 512, memory: 1024, ephemeralStorageGiB: 30, architecture: 'arm64', spot: true } }),
  ];
  const plan: Plan = { version: 1, waves: [['unit', 'image', 'arm']], stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0.003, secretsWithheld: false };
  const runs: StageRunRecord[] = [
    { stage: 'image', runner: 'fargate', fargate: { capacityProvider: 'FARGATE', spotFallback: false, pullStartedAt: 1_000, stoppedAt: 62_200, buildExitCode: 0 } },
    { stage: 'arm', runner: 'fargate', fargate: { capacityProvider: 'FARGATE_SPOT', spotFallback: false, pullStartedAt: 5_000, stoppedAt: 35_000, buildExitCode: 0 } },
  ];
  return {
    buildId: 'b',
    request: { repository: 'octo/app', ref: 'refs/heads/main', sha: 'abc' },
    plan,
    results: [result('unit', 'lambda', 1234.4), result('image', 'fargate', 50_000), result('arm', 'fargate', 20_000)],
    runs,
    manifests: {},
    startedAt: '2026-11-22T10:00:00.000Z',
    finishedAt: '2026-11-22T10:03:30.000Z',
    costs: pricedCostModel(PRICES),
    // Public IPv4 has its own test: these figures are compute, orchestration and requests.
    network: { publicIpv4PerTask: false },
  };
}

// Costs are rounded to 1e-10 USD (billing.ts roundUsd), so hand-worked figures compare to 9 places.
describe('Function: buildReport', () => {
  it('bills a Lambda stage to the next ms at GB-seconds plus the request charge', () => {
    const report = buildReport(input());
    const unit = report.stages.find((s) => s.name === 'unit')!;
    // 1234.4 ms -> 1235 ms; 1 GB x 1.235 s x 0.0000166667 + 0.0000002
    expect(unit.billedDurationMs).toBe(1235);
    expect(unit.costUsd).toBeCloseTo(0.0000207833745, 9);
  });

  it('bills a Fargate stage from PullStartedAt to StoppedAt, rounded up to the second', () => {
    const image = buildReport(input()).stages.find((s) => s.name === 'image')!;
    // 61.2 s -> 62 s; (1 vCPU x 0.04048 + 2 GB x 0.004445) x 62 / 3600
    expect(image.billedDurationMs).toBe(62_000);
    expect(image.costUsd).toBeCloseTo(0.000850261111111, 9);
  });

  it('bills a short Spot task the one-minute minimum, at the Spot price, plus storage above 20 GB', () => {
    const arm = buildReport(input()).stages.find((s) => s.name === 'arm')!;
    // 30 s -> 60 s; (0.5 x 0.03238 + 1 x 0.00356) / 60 x 0.3 + 10 GB x 0.000111 / 60
    expect(arm.billedDurationMs).toBe(60_000);
    expect(arm.costUsd).toBeCloseTo(0.00011725, 9);
    expect(arm.fargate?.spot).toBe(true);
  });

  it('totals compute, state transitions and S3 requests', () => {
    const report = buildReport(input());
    // Plan + Run batches + Select stages + Run stages + Report = 5, Lambda stage 2, Fargate stages 6 each
    // (Choose runner, Prepare, Run Fargate task, Record Fargate result, Interrupted on Spot?, Stage recorded).
    expect(report.costBreakdown.stateTransitions).toBe(19);
    expect(report.costBreakdown.stateTransitionsUsd).toBeCloseTo(0.000475, 9);
    // 21 PUT x 0.000005 + 27 GET x 0.0000004 (see usage-estimate.ts for the tally): the plan's
    // 3 stage slices and 1 batch slice, and Select stages' read of the failure record
    expect(report.costBreakdown.s3Requests).toBe(48);
    expect(report.costBreakdown.s3RequestsUsd).toBeCloseTo(0.0001158, 9);
    expect(report.costBreakdown.computeUsd).toBeCloseTo(0.000988294485611, 9);
    // Plan's slices (a PUT per stage and batch) and Select stages' fail-fast read are in the S3 estimate.
    expect(report.totalCostUsd).toBeCloseTo(0.001579094485611, 9);
    // The plan's compute prediction, and on the total's basis its orchestration and requests too.
    expect(report.comparison.predicted.computeUsd).toBe(0.003);
    expect(report.predictedCostUsd).toBeCloseTo(0.003 + report.comparison.predicted.stateTransitionsUsd + report.comparison.predicted.s3RequestsUsd, 12);
    expect(report.durationMs).toBe(210_000);
  });

  it('prices the same stages all on on-demand Fargate for comparison, start-up and orchestration included', () => {
    // Compute: unit 1.2344 s + 20 s start-up -> 60 s minimum on 1 vCPU / 2 GB x86 = 0.000822833333;
    // image: 0.000850261111; arm on-demand: 0.000329166667 + storage 0.0000185 -> 0.002020761111.
    // Orchestration: the farm's 19 transitions (0.000475) + unit's Fargate path, 6 instead of 2 (0.0001).
    // S3: the farm's 0.0001158 + unit's record task (1 PUT 0.000005 + 1 GET 0.0000004).
    const report = buildReport(input());
    expect(report.comparison.allFargate.computeUsd).toBeCloseTo(0.002020761111, 9);
    expect(report.allFargateCostUsd).toBeCloseTo(0.002020761111 + 0.000575 + 0.0001212, 9);
    expect(report.comparison.allFargate.savedUsd).toBeCloseTo(report.allFargateCostUsd - report.totalCostUsd, 12);
  });

  it('adds the Lambda attempt of a stage escalated after StageTimeout, at its whole deadline', () => {
    // Prepare: "unit" timed out on Lambda (timeout 600 s) and ran on Fargate for 61.2 s.
    const escalated = input();
    escalated.results[0] = { ...escalated.results[0]!, runner: 'fargate', durationMs: 55_000 };
    escalated.runs.push({
      stage: 'unit',
      runner: 'fargate',
      escalation: { from: 'lambda', errorName: 'StageTimeout', reason: 'out of time', lambdaBilledMs: 0 },
      fargate: { capacityProvider: 'FARGATE', spotFallback: false, pullStartedAt: 0, stoppedAt: 61_200, buildExitCode: 0 },
    });

    // Act
    const unit = buildReport(escalated).stages.find((s) => s.name === 'unit')!;

    // Assess: Fargate 62 s (0.000850261111) + Lambda 1 GB x 600 s x 0.0000166667 + 0.0000002 (0.01000022)
    expect(unit).toMatchObject({ runner: 'fargate', escalated: true, billedDurationMs: 62_000 });
    expect(unit.costUsd).toBeCloseTo(0.010850481111, 9);
  });

  it('uses a counted number of state transitions when one is given', () => {
    const report = buildReport({ ...input(), stateTransitions: 40 });
    expect(report.costBreakdown.stateTransitions).toBe(40);
    expect(report.costBreakdown.stateTransitionsUsd).toBeCloseTo(0.001, 9);
  });

  it('reports a build that could not be planned as an error with no stages', () => {
    const report = buildReport({ ...input(), plan: undefined, results: [], runs: [], error: { name: 'PipelineInvalid', message: 'bad' } });
    expect(report.status).toBe('error');
    expect(report.stages).toEqual([]);
    expect(report.costBreakdown.stateTransitions).toBe(2);
  });

  it('says failed when a stage failed and skipped when the triggers did not match', () => {
    const failing = input();
    failing.results[1] = { ...failing.results[1]!, status: 'failed', exitCode: 1 };
    expect(buildReport(failing).status).toBe('failed');
    expect(buildReport({ ...input(), plan: undefined, results: [], runs: [], notTriggered: { reason: 'branch' } }).status).toBe('skipped');
  });
});
