import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Plan, PlannedStage } from '../../../functions/domain/plan/types.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import { buildReport } from '../../../functions/domain/report/build-report.js';
import { costBreakdown, costLine, toUnits } from '../../../functions/domain/report/cost-breakdown.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import type { StageRunRecord } from '../../../functions/domain/report/run-record.js';
import type { StageResult, StageStatus } from '../../../functions/domain/report/types.js';

const units = (values: number[]) => values.reduce((sum, v) => sum + toUnits(v), 0);

const stageArb = fc.record({
  runner: fc.constantFrom('lambda' as const, 'fargate' as const),
  status: fc.constantFrom<StageStatus>('succeeded', 'failed', 'timed_out', 'skipped'),
  durationMs: fc.double({ min: 0, max: 900_000, noNaN: true }),
  memoryMB: fc.constantFrom(128, 1024, 3008, 10240),
  architecture: fc.constantFrom('x86_64' as const, 'arm64' as const),
  spot: fc.boolean(),
  storageGiB: fc.integer({ min: 20, max: 200 }),
  logBytes: fc.integer({ min: 0, max: 64 * 1024 * 1024 }),
  escalated: fc.option(fc.integer({ min: 0, max: 900_000 }), { nil: undefined }),
  initMs: fc.double({ min: 0, max: 3000, noNaN: true }),
  s3: fc.option(fc.record({ put: fc.nat(50), get: fc.nat(50) }), { nil: undefined }),
});

describe('Function: costBreakdown', () => {
  it('makes the total exactly the sum of the lines, to the report precision, whatever the lines', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 10, noNaN: true }), { maxLength: 60 }), (values) => {
        const breakdown = costBreakdown(values.map((usd) => costLine({ item: 'lambda', quantity: 1, unit: 'ms', usd })));
        expect(toUnits(breakdown.totalUsd)).toBe(units(breakdown.lines.map((l) => l.usd)));
      }),
    );
  });

  it('gives every build report a total equal to its lines, and each stage a cost equal to its own lines', () => {
    const costs = pricedCostModel(DEFAULT_PRICE_BOOK.regions['us-east-1']!);
    fc.assert(
      fc.property(fc.array(stageArb, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.option(fc.nat(500), { nil: undefined }), (specs, publicIp, transitions) => {
        const stages: PlannedStage[] = specs.map((s, i) => ({
          name: `s${i}`, wave: 0, runner: s.runner, reason: '', timeoutSeconds: 900, needs: [], upstream: [], commands: ['x'], env: {}, secrets: {}, artifacts: [], runAsRoot: false,
          fargate: { cpu: 1024, memory: 4096, ephemeralStorageGiB: s.storageGiB, architecture: s.architecture, spot: s.spot },
          lambda: { memoryMB: s.memoryMB, ephemeralStorageMB: 1024, architecture: s.architecture },
          predictedDurationSeconds: 60, predictedFrom: 'history', predictedCostUsd: 0.001,
        }));
        const results: StageResult[] = specs.map((s, i) => ({
          buildId: 'b', stage: `s${i}`, status: s.status, runner: s.runner, exitCode: 0, reason: '', startedAt: '', finishedAt: '', durationMs: s.durationMs,
          peakMemoryMiB: 0, peakDiskMiB: 0, logKey: '', manifestKey: '', artifactCount: 0, artifactBytes: 0, logBytes: s.logBytes,
          ...(s.s3 ? { s3Requests: s.s3 } : {}),
          ...(s.runner === 'lambda' ? { lambdaInvocation: { durationMs: s.durationMs + 30, initDurationMs: s.initMs } } : {}),
        }));
        const runs: StageRunRecord[] = specs.flatMap((s, i) =>
          s.runner === 'fargate'
            ? [{ stage: `s${i}`, runner: 'fargate' as const, ...(s.escalated !== undefined ? { escalation: { from: 'lambda' as const, errorName: 'OutOfDisk', reason: '', lambdaBilledMs: s.escalated } } : {}), fargate: { capacityProvider: s.spot ? 'FARGATE_SPOT' as const : 'FARGATE' as const, spotFallback: false, pullStartedAt: 0, stoppedAt: s.durationMs + 20_000, buildExitCode: 0 } }]
            : [],
        );
        const plan: Plan = { version: 1, waves: [stages.map((s) => s.name)], stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0.001 * stages.length, secretsWithheld: false };
        const report = buildReport({
          buildId: 'b', request: { repository: 'o/r', ref: 'refs/heads/main', sha: 'x' }, plan, results, runs, manifests: {}, startedAt: '2026-11-30T10:00:00Z', finishedAt: '2026-11-30T10:10:00Z',
          costs, network: { publicIpv4PerTask: publicIp }, stateTransitions: transitions, s3Requests: { put: 2, get: 1 },
        });
        expect(toUnits(report.totalCostUsd)).toBe(units(report.costBreakdown.lines.map((l) => l.usd)));
        expect(report.totalCostUsd).toBe(report.costBreakdown.totalUsd);
        const parts = ['computeUsd', 'publicIpv4Usd', 'cloudWatchLogsUsd', 'stateTransitionsUsd', 's3RequestsUsd'] as const;
        expect(units(parts.map((p) => report.costBreakdown[p]))).toBe(toUnits(report.totalCostUsd));
        for (const stage of report.stages) {
          expect(toUnits(stage.costUsd)).toBe(units(report.costBreakdown.lines.filter((l) => l.stage === stage.name).map((l) => l.usd)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
