import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnsNotifier } from '../../functions/adapters/aws/sns-notifier.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import type { ReportTaskInput } from '../../functions/handlers/build-state-machine.js';
import { reportTask, type ReportDeps } from '../../functions/handlers/report.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import { loadEvent } from '../support/events.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-east-1:123456789012:BuildReports';

class RecordingStatuses implements CommitStatusPort {
  readonly posted: { repository: string; sha: string; status: CommitStatus }[] = [];
  async post(repository: string, sha: string, status: CommitStatus): Promise<void> {
    this.posted.push({ repository, sha, status });
  }
}

/** A build whose pipeline file was invalid: Plan's error caught into Report (events/report-invalid-pipeline.json). */
const INVALID_PIPELINE: ReportTaskInput = loadEvent<ReportTaskInput>('report-invalid-pipeline.json');
const BUILD = INVALID_PIPELINE.buildId;
const PIPELINE_ERROR = '.buildfarm.yml:6:13 stages.test.needs[0]: stage "test" needs "biuld", which is not a stage; known stages: test';
const EXECUTION_ARN = INVALID_PIPELINE.executionArn;
const CONSOLE_URL = `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${EXECUTION_ARN}`;

function deps(store: MemoryStore, extra: Partial<ReportDeps> = {}): ReportDeps {
  return {
    store,
    notifier: new SnsNotifier(new SNSClient({ region: 'us-east-1' }), TOPIC),
    costs: pricedCostModel(DEFAULT_PRICE_BOOK.regions['us-east-1']!),
    now: () => new Date('2026-11-22T12:00:06.000Z'),
    region: 'us-east-1',
    ...extra,
  };
}

beforeEach(() => sns.on(PublishCommand).resolves({ MessageId: 'm-1' }));
afterEach(() => sns.reset());

describe('Function: reportTask', () => {
  it('stores the report and its summary, and publishes it with repository, branch, status and a Number costUsd', async () => {
    // Prepare
    const store = new MemoryStore();

    // Act
    const output = await reportTask(INVALID_PIPELINE, deps(store));

    // Assess
    const report = store.json<BuildReport>(`builds/${BUILD}/report.json`)!;
    expect(output).toEqual({ status: 'error', totalCostUsd: report.totalCostUsd, reportKey: `builds/${BUILD}/report.json` });
    expect(report.error).toEqual({ name: 'PipelineInvalid', message: PIPELINE_ERROR });
    expect(report.durationMs).toBe(5000);
    expect(await store.getText(`builds/${BUILD}/report.txt`)).toContain(`PipelineInvalid: ${PIPELINE_ERROR}`);
    const publish = sns.commandCalls(PublishCommand)[0]!.args[0].input;
    expect(publish.TopicArn).toBe(TOPIC);
    expect(JSON.parse(publish.Message!)).toMatchObject({ buildId: BUILD, status: 'error', link: CONSOLE_URL, reportKey: `builds/${BUILD}/report.json`, summaryKey: `builds/${BUILD}/report.txt` });
    expect(publish.MessageAttributes).toEqual({
      repository: { DataType: 'String', StringValue: 'Codertocat/Hello-World' },
      branch: { DataType: 'String', StringValue: 'master' },
      status: { DataType: 'String', StringValue: 'error' },
      costUsd: { DataType: 'Number', StringValue: expect.stringMatching(/^\d+(\.\d{1,5})?$/) },
    });
  });

  it('posts the commit statuses linking to the execution in the Step Functions console', async () => {
    // Prepare
    const statuses = new RecordingStatuses();

    // Act
    await reportTask(INVALID_PIPELINE, deps(new MemoryStore(), { statuses }));

    // Assess
    expect(statuses.posted).toHaveLength(1);
    expect(statuses.posted[0]).toMatchObject({ repository: 'Codertocat/Hello-World', sha: INVALID_PIPELINE.state.request.sha, status: { context: 'buildfarm', state: 'error', targetUrl: CONSOLE_URL } });
    expect(statuses.posted[0]!.status.description.length).toBeLessThanOrEqual(140);
  });

  it('links to the page the farm names (the local dashboard) instead of the console', async () => {
    // Prepare
    const statuses = new RecordingStatuses();
    const link = (buildId: string) => `http://127.0.0.1:8080/#/builds/${buildId}`;

    // Act
    await reportTask({ ...INVALID_PIPELINE, executionArn: `local:${BUILD}` }, deps(new MemoryStore(), { statuses, link }));

    // Assess
    expect(JSON.parse(sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!).link).toBe(`http://127.0.0.1:8080/#/builds/${BUILD}`);
    expect(statuses.posted[0]!.status.targetUrl).toBe(`http://127.0.0.1:8080/#/builds/${BUILD}`);
  });
});
