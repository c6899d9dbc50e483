import type { BuildReport, StageReport } from '../../../functions/domain/report/types.js';
import { reportCostFields } from '../../support/report-cost-fixture.js';

/** A stage that ran on the Lambda runner (2048 MB, x86). */
export function lambdaStage(overrides: Partial<StageReport> = {}): StageReport {
  return {
    name: 'build',
    status: 'succeeded',
    runner: 'lambda',
    lambda: { memoryMB: 2048, ephemeralStorageMB: 512, architecture: 'x86_64' },
    durationMs: 134_000,
    billedDurationMs: 134_000,
    costUsd: 0.0031,
    predictedCostUsd: 0.004,
    exitCode: 0,
    reason: 'all commands exited 0',
    escalated: false,
    artifacts: [],
    peakMemoryMiB: 700,
    peakDiskMiB: 120,
    ...overrides,
  };
}

/** A stage that ran on Fargate (1 vCPU, 2 GB). */
export function fargateStage(overrides: Partial<StageReport> = {}): StageReport {
  return {
    name: 'test',
    status: 'succeeded',
    runner: 'fargate',
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    durationMs: 302_000,
    billedDurationMs: 303_000,
    costUsd: 0.0041,
    predictedCostUsd: 0.005,
    exitCode: 0,
    reason: 'all commands exited 0',
    escalated: false,
    artifacts: [],
    peakMemoryMiB: 1500,
    peakDiskMiB: 3000,
    ...overrides,
  };
}

export function buildReport(overrides: Partial<BuildReport> = {}): BuildReport {
  return {
    buildId: 'delivery-72d3162e',
    repository: 'acme/api',
    ref: 'refs/heads/main',
    sha: '0123456789abcdef0123456789abcdef01234567',
    status: 'succeeded',
    startedAt: '2026-11-22T10:00:00.000Z',
    finishedAt: '2026-11-22T10:05:02.000Z',
    durationMs: 302_000,
    stages: [lambdaStage(), fargateStage()],
    ...reportCostFields({ computeUsd: 0.0072, stateTransitions: 40, stateTransitionsUsd: 0.001, s3Requests: 60, s3RequestsUsd: 0.0003, predictedUsd: 0.0105, allFargateUsd: 0.0123 }),
    ...overrides,
  };
}
