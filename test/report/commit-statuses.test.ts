import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  MAX_STATUS_DESCRIPTION,
  buildState,
  commitStatuses,
  describeBuild,
  describeStage,
  pendingStatus,
  stageState,
} from '../../functions/domain/report/commit-statuses.js';
import { executionConsoleUrl } from '../../functions/domain/report/console-url.js';
import type { BuildStatus, StageReport, StageStatus } from '../../functions/domain/report/types.js';
import { buildReport, fargateStage, lambdaStage } from './support/reports.js';

const URL = 'https://example.test/build';
const STAGE_STATUSES: StageStatus[] = ['succeeded', 'failed', 'timed_out', 'skipped', 'cancelled'];
const BUILD_STATUSES: BuildStatus[] = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];

/** Every number-like token of the description must be a whole number from the input, never a cut one. */
const costTokens = (text: string): string[] => text.match(/\$[-\d.e+?]+/g) ?? [];

describe('Function: describeStage', () => {
  it('says the outcome, the time, the cost and the runner', () => {
    expect(describeStage(lambdaStage())).toBe('succeeded in 2m 14s · $0.0031 (Lambda 2048 MB)');
    expect(describeStage(fargateStage({ fargate: { cpu: 256, memory: 512, ephemeralStorageGiB: 20, architecture: 'arm64', spot: true } }))).toBe(
      'succeeded in 5m 02s · $0.0041 (Fargate Spot 0.25 vCPU 0.5 GB arm64)',
    );
  });

  it('adds the error of a failed stage, and says when it was escalated from Lambda', () => {
    // Prepare
    const stage = fargateStage({ status: 'failed', exitCode: 2, errorName: 'CommandFailed', reason: 'mvn -B verify exited 2', escalated: true });

    // Act
    const description = describeStage(stage);

    // Assess
    expect(description).toBe('failed in 5m 02s · $0.0041 (Fargate 1 vCPU 2 GB, after Lambda ran out) — CommandFailed: mvn -B verify exited 2');
  });

  it('shortens a long reason between words before it drops anything else', () => {
    // Prepare
    const stage = lambdaStage({ status: 'failed', errorName: 'CommandFailed', reason: 'the test suite failed because '.repeat(10) });

    // Act
    const description = describeStage(stage);

    // Assess
    expect(description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
    expect(description.startsWith('failed in 2m 14s · $0.0031 (Lambda 2048 MB) — CommandFailed: the test suite')).toBe(true);
    expect(description.endsWith('…')).toBe(true);
  });

  it('names neither runner nor time for a stage that never started', () => {
    expect(describeStage(lambdaStage({ status: 'skipped', durationMs: 0, costUsd: 0, reason: 'needs test, which failed' }))).toBe('skipped · $0.0000 — needs test, which failed');
  });

  it('drops a reason that is one unbreakable token rather than cutting it', () => {
    // Prepare
    const stage = lambdaStage({ status: 'failed', errorName: 'X'.repeat(200), reason: '' });

    // Act
    const description = describeStage(stage);

    // Assess
    expect(description).toBe('failed in 2m 14s · $0.0031 (Lambda 2048 MB)');
  });

  it('keeps within 140 characters and never cuts the cost, whatever the stage', () => {
    const hostileText = fc.oneof(fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 300 }), fc.constantFrom('', ' ', '\n\n\t', '9'.repeat(500)));
    const stage = fc.record({
      name: hostileText,
      status: fc.constantFrom(...STAGE_STATUSES),
      runner: fc.constantFrom('lambda' as const, 'fargate' as const),
      durationMs: fc.oneof(fc.nat(), fc.double({ min: 0, max: 1e15, noNaN: true })),
      costUsd: fc.oneof(fc.double({ noNaN: false }), fc.double({ min: 0, max: 1e30, noNaN: true })),
      errorName: fc.option(hostileText, { nil: undefined }),
      reason: hostileText,
      escalated: fc.boolean(),
      memoryMB: fc.integer({ min: 128, max: 10240 }),
      cpu: fc.constantFrom(256, 512, 1024, 2048, 4096, 8192, 16384),
      spot: fc.boolean(),
    });
    fc.assert(
      fc.property(stage, (s) => {
        // Prepare
        const report: StageReport = lambdaStage({
          ...s,
          lambda: { memoryMB: s.memoryMB, ephemeralStorageMB: 10240, architecture: 'arm64' },
          fargate: { cpu: s.cpu, memory: s.cpu * 8, ephemeralStorageGiB: 200, architecture: 'arm64', spot: s.spot },
        });

        // Act
        const description = describeStage(report);

        // Assess
        expect(description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
        expect([...description].length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
        expect(description).not.toMatch(/[\n\r\t]/);
        const expectedCost = describeStage(lambdaStage({ costUsd: s.costUsd, status: 'skipped', reason: '', errorName: undefined }));
        expect(costTokens(description)[0]).toBe(costTokens(expectedCost)[0]);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Function: describeBuild', () => {
  it('says the outcome, the time, the cost against the prediction and how many stages passed', () => {
    expect(describeBuild(buildReport())).toBe('succeeded in 5m 02s · $0.0085 (predicted $0.0105) · 2/2 stages passed');
  });

  it('names the failing stages', () => {
    // Prepare
    const report = buildReport({ status: 'failed', stages: [lambdaStage({ status: 'failed' }), fargateStage({ status: 'timed_out' }), lambdaStage({ name: 'deploy', status: 'skipped' })] });

    // Act
    const description = describeBuild(report);

    // Assess
    expect(description).toBe('failed in 5m 02s · $0.0085 (predicted $0.0105) · 0/3 stages passed — failed: build, test');
  });

  it('gives the error of a build that could not run', () => {
    // Prepare
    const report = buildReport({ status: 'error', stages: [], durationMs: 900, totalCostUsd: 0.00002, error: { name: 'PipelineInvalid', message: '.buildfarm.yml:3:5 stages.build.needs: unknown stage "tset"' } });

    // Act
    const description = describeBuild(report);

    // Assess
    expect(description).toBe('errored in 900ms · $0.0000 — PipelineInvalid: .buildfarm.yml:3:5 stages.build.needs: unknown stage "tset"');
  });

  it('keeps within 140 characters for hostile reports', () => {
    const hostileText = fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 200 }), fc.constant('1'.repeat(1000)));
    fc.assert(
      fc.property(
        fc.record({
          status: fc.constantFrom(...BUILD_STATUSES),
          totalCostUsd: fc.double({ noNaN: false }),
          predictedCostUsd: fc.double({ min: 0, max: 1e25, noNaN: true }),
          durationMs: fc.double({ min: 0, max: 1e18, noNaN: true }),
          names: fc.array(hostileText, { maxLength: 30 }),
          statuses: fc.array(fc.constantFrom(...STAGE_STATUSES), { minLength: 30, maxLength: 30 }),
          error: fc.option(fc.record({ name: hostileText, message: hostileText }), { nil: undefined }),
        }),
        (r) => {
          // Prepare
          const stages = r.names.map((name, i) => lambdaStage({ name, status: r.statuses[i]! }));
          const report = buildReport({ ...r, stages });

          // Act
          const description = describeBuild(report);

          // Assess
          expect(description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
          expect(description).toContain(costTokens(describeBuild(buildReport({ totalCostUsd: r.totalCostUsd, stages: [] })))[0]!);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('Function: stageState and buildState', () => {
  it.each([
    ['succeeded', 'success'],
    ['skipped', 'success'],
    ['failed', 'failure'],
    ['timed_out', 'failure'],
    ['cancelled', 'error'],
  ] as const)('maps a %s stage to %s', (status, state) => {
    expect(stageState(status)).toBe(state);
  });

  it.each([
    ['succeeded', 'success'],
    ['skipped', 'success'],
    ['failed', 'failure'],
    ['cancelled', 'error'],
    ['error', 'error'],
    ['interrupted', 'error'],
  ] as const)('maps a %s build to %s', (status, state) => {
    expect(buildState(status)).toBe(state);
  });
});

describe('Function: commitStatuses', () => {
  it('gives the build status first, then one per stage under buildfarm/<stage>, all linking to the execution', () => {
    // Prepare
    const report = buildReport({ status: 'failed', stages: [lambdaStage(), fargateStage({ status: 'failed', reason: 'exit 1' })] });

    // Act
    const statuses = commitStatuses(report, URL);

    // Assess
    expect(statuses.map(({ context, state, targetUrl }) => ({ context, state, targetUrl }))).toEqual([
      { context: 'buildfarm', state: 'failure', targetUrl: URL },
      { context: 'buildfarm/build', state: 'success', targetUrl: URL },
      { context: 'buildfarm/test', state: 'failure', targetUrl: URL },
    ]);
    expect(statuses.map((s) => s.description)).toEqual([describeBuild(report), ...report.stages.map(describeStage)]);
  });
});

describe('Function: pendingStatus', () => {
  it('is a pending buildfarm status', () => {
    expect(pendingStatus(URL)).toEqual({ context: 'buildfarm', state: 'pending', description: 'building', targetUrl: URL });
  });
});

describe('Function: executionConsoleUrl', () => {
  it('links the execution in the Step Functions console of its region', () => {
    // Prepare
    const arn = 'arn:aws:states:eu-west-1:123456789012:execution:BuildStateMachine-Ab12:delivery-72d3162e';

    // Act
    const url = executionConsoleUrl('eu-west-1', arn);

    // Assess
    expect(url).toBe(
      'https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/arn:aws:states:eu-west-1:123456789012:execution:BuildStateMachine-Ab12:delivery-72d3162e',
    );
    expect(new globalThis.URL(url).hostname).toBe('eu-west-1.console.aws.amazon.com');
  });
});

describe('Function: describeStage (records outside the contract)', () => {
  it('keeps the cost when a status it does not know is long', () => {
    // Prepare
    const stage = lambdaStage({ status: 'exploded '.repeat(40) as never, costUsd: 12.5 });

    // Act
    const description = describeStage(stage);

    // Assess
    expect(description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
    expect(description).toContain('$12.50');
    expect(stageState('exploded' as never)).toBe('error');
  });
});
