import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../functions/adapters/aws/sns-notifier.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { reportMessage, reportTask } from '../../functions/handlers/report.js';
import { REQUEST } from '../statemachine/support/farm.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:BuildReports';

afterEach(() => sns.reset());

describe('Function: reportTask', () => {
  it('publishes the report to SNS with repository, branch, status and a Number costUsd to filter on', async () => {
    // Prepare
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const store = new MemoryStore();
    const deps = {
      store,
      notifier: new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC),
      costs: pricedCostModel(DEFAULT_PRICE_BOOK.regions['us-east-1']!),
      now: () => new Date('2026-11-22T10:00:05.000Z'),
    };

    // Act: a build whose pipeline file was invalid (Plan caught into Report)
    const output = await reportTask(
      {
        buildId: 'b-1',
        request: REQUEST,
        startedAt: '2026-11-22T10:00:00.000Z',
        state: { error: { Error: 'PipelineInvalid', Cause: JSON.stringify({ errorType: 'PipelineInvalid', errorMessage: '.buildfarm.yml:3:5 stages: empty' }) } },
      },
      deps,
    );

    // Assess
    const report = store.json<BuildReport>('builds/b-1/report.json')!;
    expect(output).toEqual({ status: 'error', totalCostUsd: report.totalCostUsd, reportKey: 'builds/b-1/report.json' });
    expect(report.error).toEqual({ name: 'PipelineInvalid', message: '.buildfarm.yml:3:5 stages: empty' });
    expect(report.durationMs).toBe(5000);
    const publish = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(publish.TopicArn).toBe(TOPIC);
    expect(JSON.parse(publish.Message!)).toEqual(report);
    expect(publish.MessageAttributes).toEqual({
      repository: { DataType: 'String', StringValue: 'octo/app' },
      branch: { DataType: 'String', StringValue: 'main' },
      status: { DataType: 'String', StringValue: 'error' },
      costUsd: { DataType: 'Number', StringValue: String(report.totalCostUsd) },
    });
  });
});

describe('Function: reportMessage', () => {
  it('publishes a summary with the stage lines when the full report would pass the SNS size limit', () => {
    // Prepare
    const stage = { name: 'x', status: 'succeeded', runner: 'lambda', costUsd: 0.1, reason: 'r'.repeat(1000) } as BuildReport['stages'][number];
    const report = { buildId: 'b', status: 'succeeded', totalCostUsd: 1, stages: Array.from({ length: 300 }, (_, i) => ({ ...stage, name: `s${i}` })) } as unknown as BuildReport;

    // Act
    const message = JSON.parse(reportMessage(report));

    // Assess
    expect(message.truncated).toBe(true);
    expect(message.stages[299]).toEqual({ name: 's299', status: 'succeeded', runner: 'lambda', costUsd: 0.1 });
    expect(Buffer.byteLength(reportMessage(report))).toBeLessThan(256 * 1024);
  });
});
