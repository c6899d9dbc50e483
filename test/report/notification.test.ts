import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toMessageAttributes } from '../../functions/adapters/aws/sns-notifier.js';
import {
  MAX_REPORT_MESSAGE_BYTES,
  attributeUsd,
  branchFromRef,
  reportAttributes,
  reportNotification,
  type ReportMessage,
} from '../../functions/domain/report/notification.js';
import { buildReport, fargateStage, lambdaStage } from './support/reports.js';
import { matchesFilterPolicy, type DeliveredAttribute } from './support/filter-policy.js';

const CONTEXT = {
  link: 'https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:Build:delivery-72d3162e',
  reportKey: 'builds/delivery-72d3162e/report.json',
  summaryKey: 'builds/delivery-72d3162e/report.txt',
};

/** The attributes as a subscriber's filter policy sees them: through the SNS adapter's encoding. */
function delivered(attributes: Record<string, string | number>): Record<string, DeliveredAttribute> {
  return Object.fromEntries(
    Object.entries(toMessageAttributes(attributes)).map(([name, value]) => [name, { Type: value.DataType as 'String' | 'Number', Value: value.StringValue! }]),
  );
}

describe('Function: reportNotification', () => {
  it('carries exactly repository, branch, status and a Number costUsd as attributes', () => {
    // Prepare
    const report = buildReport({ totalCostUsd: 1.23456789, status: 'failed' });

    // Act
    const { attributes } = reportNotification(report, { ...CONTEXT, branch: 'feature/login' });

    // Assess
    expect(attributes).toEqual({ repository: 'acme/api', branch: 'feature/login', status: 'failed', costUsd: 1.23457 });
    expect(toMessageAttributes({ ...attributes })).toEqual({
      repository: { DataType: 'String', StringValue: 'acme/api' },
      branch: { DataType: 'String', StringValue: 'feature/login' },
      status: { DataType: 'String', StringValue: 'failed' },
      costUsd: { DataType: 'Number', StringValue: '1.23457' },
    });
  });

  it('lets the README filter policies select builds by cost, status and repository', () => {
    // Prepare
    const cheap = reportNotification(buildReport({ totalCostUsd: 0.0085 }), CONTEXT).attributes;
    const dear = reportNotification(buildReport({ totalCostUsd: 1.5, status: 'failed' }), CONTEXT).attributes;
    const dollar = reportNotification(buildReport({ totalCostUsd: 1 }), CONTEXT).attributes;
    const other = reportNotification(buildReport({ repository: 'acme/web', totalCostUsd: 2 }), CONTEXT).attributes;
    const overOneDollar = { costUsd: [{ numeric: ['>', 1] }] };
    const failuresOnly = { status: ['failed', 'error', 'interrupted'] };
    const oneRepository = { repository: ['acme/api'] };

    // Act
    const matches = (policy: Parameters<typeof matchesFilterPolicy>[0]) =>
      [cheap, dear, dollar, other].map((attributes) => matchesFilterPolicy(policy, delivered({ ...attributes })));

    // Assess
    expect(matches(overOneDollar)).toEqual([false, true, false, true]);
    expect(matches(failuresOnly)).toEqual([false, true, false, false]);
    expect(matches(oneRepository)).toEqual([true, true, true, false]);
    expect(matches({ ...oneRepository, ...overOneDollar })).toEqual([false, true, false, false]);
  });

  it('would not match a numeric filter if costUsd travelled as a String', () => {
    // Prepare: the reason costUsd must be a Number, shown with the same policy.
    const policy = { costUsd: [{ numeric: ['>', 1] }] };

    // Act
    const asNumber = matchesFilterPolicy(policy, delivered({ costUsd: 2 }));
    const asString = matchesFilterPolicy(policy, delivered({ costUsd: '2' }));

    // Assess
    expect([asNumber, asString]).toEqual([true, false]);
  });

  it('summarises the build and every stage in the JSON body', () => {
    // Prepare
    const report = buildReport({
      stages: [lambdaStage(), fargateStage({ status: 'failed', exitCode: 1, errorName: 'CommandFailed', reason: 'npm test exited 1' })],
      status: 'failed',
    });

    // Act
    const { body, message } = reportNotification(report, { ...CONTEXT, branch: 'main' });

    // Assess
    expect(JSON.parse(body)).toEqual(message);
    expect(message).toMatchObject({
      version: 1,
      buildId: 'delivery-72d3162e',
      repository: 'acme/api',
      branch: 'main',
      ref: 'refs/heads/main',
      sha: '0123456789abcdef0123456789abcdef01234567',
      status: 'failed',
      totalCostUsd: 0.0085,
      predictedCostUsd: 0.0105,
      allFargateCostUsd: 0.0123,
      link: CONTEXT.link,
      reportKey: CONTEXT.reportKey,
      summaryKey: CONTEXT.summaryKey,
      stageCount: 2,
      stagesOmitted: 0,
    });
    expect(message.savedVsAllFargateUsd).toBe(0.0038);
    expect(message.headline).toBe('acme/api main: failed in 5m 02s · $0.0085 (predicted $0.0105) · 1/2 stages passed — failed: test');
    expect(message.stages).toEqual([
      expect.objectContaining({ name: 'build', status: 'succeeded', runner: 'lambda', size: 'Lambda 2048 MB', durationMs: 134_000, costUsd: 0.0031, predictedCostUsd: 0.004 }),
      expect.objectContaining({ name: 'test', status: 'failed', runner: 'fargate', size: 'Fargate 1 vCPU 2 GB', errorName: 'CommandFailed', reason: 'npm test exited 1', exitCode: 1 }),
    ]);
  });

  it('keeps a huge report under the SNS limit by leaving stages out and counting them', () => {
    // Prepare: 3,000 stages with long reasons, several MB as JSON.
    const stages = Array.from({ length: 3000 }, (_, i) =>
      fargateStage({ name: `stage-${i}`, status: 'failed', reason: `failure ${i} `.repeat(200), errorName: 'CommandFailed' }),
    );
    const report = buildReport({ stages, status: 'failed' });

    // Act
    const { body, message } = reportNotification(report, CONTEXT);

    // Assess
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_REPORT_MESSAGE_BYTES);
    const parsed = JSON.parse(body) as ReportMessage;
    expect(parsed.stageCount).toBe(3000);
    expect(parsed.stagesOmitted).toBeGreaterThan(0);
    expect(parsed.stages.length + parsed.stagesOmitted).toBe(3000);
    expect(parsed.stages[0]!.name).toBe('stage-0');
    expect(parsed.stages.length).toBeGreaterThan(0);
    // The largest count that fits: the same report cut to one stage more still has to leave one out.
    const oneMore = reportNotification(buildReport({ stages: stages.slice(0, parsed.stages.length + 1), status: 'failed' }), CONTEXT);
    expect(oneMore.message.stagesOmitted).toBe(1);
    expect(parsed.stages.every((s) => (s.reason ?? '').length <= 1000)).toBe(true);
  });

  it('keeps every stage of an ordinary report', () => {
    // Prepare
    const stages = Array.from({ length: 40 }, (_, i) => lambdaStage({ name: `s${i}` }));

    // Act
    const { message } = reportNotification(buildReport({ stages }), CONTEXT);

    // Assess
    expect(message.stages.map((s) => s.name)).toEqual(stages.map((s) => s.name));
    expect(message.stagesOmitted).toBe(0);
  });
});

describe('Function: reportNotification (hostile reports)', () => {
  it('always gives a parseable body under the limit and attributes SNS accepts', () => {
    const text = fc.oneof(fc.string({ maxLength: 2000 }), fc.string({ unit: 'grapheme', maxLength: 500 }), fc.constant(''));
    fc.assert(
      fc.property(
        fc.record({
          repository: text,
          ref: text,
          branch: fc.option(text, { nil: undefined }),
          totalCostUsd: fc.double(),
          names: fc.array(text, { maxLength: 50 }),
          reason: text,
        }),
        (r) => {
          // Prepare
          const stages = r.names.map((name) => fargateStage({ name, reason: r.reason.repeat(50), errorName: r.reason }));
          const report = buildReport({ repository: r.repository, ref: r.ref, totalCostUsd: r.totalCostUsd, stages });

          // Act
          const { body, attributes } = reportNotification(report, { ...CONTEXT, branch: r.branch });

          // Assess
          expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_REPORT_MESSAGE_BYTES);
          expect((JSON.parse(body) as ReportMessage).stageCount).toBe(stages.length);
          expect(() => toMessageAttributes({ ...attributes })).not.toThrow();
          expect(attributes.costUsd).toBeGreaterThanOrEqual(0);
          expect(attributes.costUsd).toBeLessThanOrEqual(1e9);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('Function: reportAttributes', () => {
  it('derives the branch from the ref when the request did not give one', () => {
    expect(reportAttributes(buildReport({ ref: 'refs/heads/release/2.x' })).branch).toBe('release/2.x');
  });

  it('never sends an empty String attribute, which SNS rejects', () => {
    // Act
    const attributes = reportAttributes(buildReport({ repository: '', ref: '' }), '');

    // Assess
    expect(attributes.repository).toBe('(unknown)');
    expect(attributes.branch).toBe('(none)');
    expect(() => toMessageAttributes({ ...attributes })).not.toThrow();
  });
});

describe('Function: attributeUsd', () => {
  it.each([
    [0.0000049, 0],
    [0.000006, 0.00001],
    [1.234564, 1.23456],
    [1e12, 1e9],
    [Number.NaN, 0],
    [-3, 0],
  ])('turns %d into %d, a number SNS filter policies compare', (usd, expected) => {
    expect(attributeUsd(usd)).toBe(expected);
  });
});

describe('Function: branchFromRef', () => {
  it.each([
    ['refs/heads/main', 'main'],
    ['refs/heads/feature/x', 'feature/x'],
    ['refs/tags/v1.2.0', 'v1.2.0'],
    ['refs/pull/7/head', 'pull/7/head'],
    ['main', 'main'],
  ])('reads %s as %s', (ref, branch) => {
    expect(branchFromRef(ref)).toBe(branch);
  });
});
