/**
 * The report against an independent oracle (test/support/cost-oracle.ts): a varied build (Lambda
 * tiers, arm64, /tmp and Fargate storage above the free amounts, Spot, a Spot interruption,
 * failures, timeouts, an escalation) recomputed from its raw measurements, figure by figure.
 */
import { describe, expect, it } from 'vitest';
import type { Plan, PlannedStage } from '../../../functions/domain/plan/types.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import { buildReport } from '../../../functions/domain/report/build-report.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import type { StageRunRecord } from '../../../functions/domain/report/run-record.js';
import type { StageResult, StageStatus } from '../../../functions/domain/report/types.js';
import { oracleBill, type OracleStage } from '../../support/cost-oracle.js';

const PRICES = DEFAULT_PRICE_BOOK.regions['us-east-1']!;

type Arch = 'x86_64' | 'arm64';
function planned(name: string, runner: 'lambda' | 'fargate', lambda: [number, number, Arch] | undefined, fargate: [number, number, number, Arch, boolean]): PlannedStage {
  return {
    name, wave: 0, runner, reason: '', timeoutSeconds: 3600, needs: [], upstream: [], commands: ['x'], env: {}, secrets: {}, artifacts: [], runAsRoot: false,
    fargate: { cpu: fargate[0], memory: fargate[1], ephemeralStorageGiB: fargate[2], architecture: fargate[3], spot: fargate[4] },
    ...(lambda ? { lambda: { memoryMB: lambda[0], ephemeralStorageMB: lambda[1], architecture: lambda[2] } } : {}),
    predictedDurationSeconds: 60, predictedFrom: 'history', predictedCostUsd: 0.001,
  };
}

function result(stage: string, runner: 'lambda' | 'fargate', status: StageStatus, durationMs: number, extra: Partial<StageResult>): StageResult {
  return { buildId: 'b', stage, status, runner, exitCode: status === 'succeeded' ? 0 : 1, reason: '', startedAt: '', finishedAt: '', durationMs, peakMemoryMiB: 0, peakDiskMiB: 0, logKey: '', manifestKey: '', artifactCount: 0, artifactBytes: 0, ...extra };
}

const task = (capacityProvider: 'FARGATE' | 'FARGATE_SPOT', pullStartedAt: number, stoppedAt: number) => ({ capacityProvider, spotFallback: false, pullStartedAt, stoppedAt, buildExitCode: 0 });

describe('The cost report against an independent oracle', () => {
  it('agrees on every stage, every part and the total of a varied build', () => {
    // Prepare: the plan, the records the runners and record tasks wrote, and the same facts for the oracle.
    const stages = [
      planned('lint', 'lambda', [128, 512, 'x86_64'], [256, 512, 20, 'x86_64', false]),
      planned('unit', 'lambda', [3008, 2048, 'arm64'], [1024, 4096, 20, 'arm64', false]),
      planned('e2e', 'lambda', [10240, 10240, 'x86_64'], [4096, 16384, 20, 'x86_64', false]),
      planned('image', 'fargate', undefined, [2048, 8192, 100, 'x86_64', false]),
      planned('arm', 'fargate', undefined, [512, 1024, 20, 'arm64', true]),
      planned('heavy', 'lambda', [1024, 512, 'x86_64'], [4096, 16384, 50, 'x86_64', false]),
      planned('flaky', 'fargate', undefined, [1024, 2048, 20, 'x86_64', true]),
      planned('slow', 'fargate', undefined, [1024, 3072, 21, 'x86_64', false]),
    ];
    const results = [
      result('lint', 'lambda', 'succeeded', 700, { lambdaInvocation: { durationMs: 812.3, initDurationMs: 310.7 }, logBytes: 10_240, s3Requests: { put: 3, get: 2 } }),
      result('unit', 'lambda', 'failed', 45_000, { lambdaInvocation: { durationMs: 45_123.4, initDurationMs: 0 }, logBytes: 1_048_576, s3Requests: { put: 3, get: 5 } }),
      result('e2e', 'lambda', 'timed_out', 300_000, { lambdaInvocation: { durationMs: 300_050, initDurationMs: 95.5 }, logBytes: 5_000_000, s3Requests: { put: 3, get: 2 } }),
      result('image', 'fargate', 'succeeded', 170_000, { logBytes: 200_000, s3Requests: { put: 9, get: 4 } }),
      result('arm', 'fargate', 'succeeded', 20_000, { logBytes: 3_000, s3Requests: { put: 3, get: 2 } }),
      result('heavy', 'fargate', 'succeeded', 380_000, { logBytes: 400_000, s3Requests: { put: 4, get: 3 } }),
      result('flaky', 'fargate', 'succeeded', 100_000, { logBytes: 9_000, s3Requests: { put: 3, get: 2 } }),
      result('slow', 'fargate', 'timed_out', 3_590_000, { logBytes: 70_000_000, s3Requests: { put: 3, get: 2 } }),
    ];
    const runs: StageRunRecord[] = [
      { stage: 'image', runner: 'fargate', fargate: task('FARGATE', 1_000, 185_432), s3Requests: { put: 2, get: 2 } },
      { stage: 'arm', runner: 'fargate', fargate: task('FARGATE_SPOT', 0, 30_000), s3Requests: { put: 1, get: 2 } },
      {
        stage: 'heavy', runner: 'fargate', fargate: task('FARGATE', 50_000, 450_000), s3Requests: { put: 1, get: 2 },
        escalation: { from: 'lambda', errorName: 'OutOfDisk', reason: 'disk', lambdaBilledMs: 42_001, lambdaInitMs: 220, s3Requests: { put: 2, get: 3 }, logBytes: 30_000 },
      },
      { stage: 'flaky', runner: 'fargate', fargate: { ...task('FARGATE', 100_000, 220_000), spotInterruption: { pullStartedAt: 0, stoppedAt: 90_000, s3Requests: { put: 4, get: 6 } } }, s3Requests: { put: 1, get: 2 } },
      { stage: 'slow', runner: 'fargate', fargate: task('FARGATE', 0, 3_600_500), s3Requests: { put: 1, get: 2 } },
    ];
    const plan: Plan = { version: 1, waves: [stages.map((s) => s.name)], stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0.008, secretsWithheld: false };
    const report = buildReport({
      buildId: 'b', request: { repository: 'o/r', ref: 'refs/heads/main', sha: 'x' }, plan, results, runs, manifests: {},
      startedAt: '2026-11-30T10:00:00Z', finishedAt: '2026-11-30T11:05:00Z', costs: pricedCostModel(PRICES), network: { publicIpv4PerTask: true },
      stateTransitions: 61, s3Requests: { put: 6, get: 14 },
    });

    const oracle: OracleStage[] = [
      { name: 'lint', lambda: [{ memoryMB: 128, tmpMB: 512, arch: 'x86_64', invocationMs: 812.3, initMs: 310.7 }], tasks: [], logBytes: 10_240 },
      { name: 'unit', lambda: [{ memoryMB: 3008, tmpMB: 2048, arch: 'arm64', invocationMs: 45_123.4, initMs: 0 }], tasks: [], logBytes: 1_048_576 },
      { name: 'e2e', lambda: [{ memoryMB: 10240, tmpMB: 10240, arch: 'x86_64', invocationMs: 300_050, initMs: 95.5 }], tasks: [], logBytes: 5_000_000 },
      { name: 'image', lambda: [], tasks: [{ vcpu: 2, memoryGB: 8, storageGB: 100, arch: 'x86_64', spot: false, lifeMs: 184_432 }], logBytes: 200_000 },
      { name: 'arm', lambda: [], tasks: [{ vcpu: 0.5, memoryGB: 1, storageGB: 20, arch: 'arm64', spot: true, lifeMs: 30_000 }], logBytes: 3_000 },
      { name: 'heavy', lambda: [{ memoryMB: 1024, tmpMB: 512, arch: 'x86_64', invocationMs: 42_001, initMs: 220 }], tasks: [{ vcpu: 4, memoryGB: 16, storageGB: 50, arch: 'x86_64', spot: false, lifeMs: 400_000 }], logBytes: 430_000 },
      { name: 'flaky', lambda: [], tasks: [{ vcpu: 1, memoryGB: 2, storageGB: 20, arch: 'x86_64', spot: false, lifeMs: 120_000 }, { vcpu: 1, memoryGB: 2, storageGB: 20, arch: 'x86_64', spot: true, lifeMs: 90_000 }], logBytes: 9_000 },
      { name: 'slow', lambda: [], tasks: [{ vcpu: 1, memoryGB: 3, storageGB: 21, arch: 'x86_64', spot: false, lifeMs: 3_600_500 }], logBytes: 70_000_000 },
    ];
    // S3, counted: results 31 PUT / 22 GET, run records 6 / 10, the escalated attempt 2 / 3, the interrupted Spot task 4 / 6, Plan and Report 6 / 14.
    // Modelled: Select stages GETs its batch's slice and the fail-fast record (2; one batch) and a grant PUT per stage (8); StageCredentials 2 GETs per session:
    // 3 Lambda stages x1, image, arm and slow x2, heavy x3 (its Lambda attempt), flaky x4 (the interrupted task's two) = 3 + 6 + 3 + 4 = 16 sessions.
    const s3Tier1 = 31 + 6 + 2 + 4 + 6 + 8;
    const s3Tier2 = 22 + 10 + 3 + 6 + 14 + 2 + 2 * 16;
    const bill = oracleBill(oracle, { transitions: 61, s3Tier1, s3Tier2, publicIp: true }, PRICES);

    // Assess: every figure within the report's 1e-10 rounding per line.
    for (const stage of report.stages) expect(stage.costUsd, stage.name).toBeCloseTo(bill.stages[stage.name]!, 9);
    expect(report.costBreakdown.computeUsd).toBeCloseTo(bill.computeUsd, 9);
    expect(report.costBreakdown.publicIpv4Usd).toBeCloseTo(bill.ipv4Usd, 9);
    expect(report.costBreakdown.cloudWatchLogsUsd).toBeCloseTo(bill.logsUsd, 9);
    expect(report.costBreakdown.stateTransitionsUsd).toBeCloseTo(bill.transitionsUsd, 12);
    expect(report.costBreakdown.s3Requests).toBe(s3Tier1 + s3Tier2);
    expect(report.costBreakdown.s3RequestsUsd).toBeCloseTo(bill.s3Usd, 12);
    expect(report.totalCostUsd).toBeCloseTo(bill.totalUsd, 9);
    expect(report.status).toBe('failed');
  });
});
