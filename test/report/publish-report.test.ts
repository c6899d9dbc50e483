import { describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { S3HistoryStore } from '../../functions/adapters/s3-history-store.js';
import { publishReport, type ReportLogger } from '../../functions/domain/report/publish-report.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { startS3rver } from '../support/s3rver.js';
import { MemoryArtifactStore } from './support/memory-store.js';
import { buildReport, fargateStage, lambdaStage } from './support/reports.js';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildStateMachine:delivery-72d3162e';
const CONSOLE_URL = `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${EXECUTION_ARN}`;

class RecordingStatuses implements CommitStatusPort {
  readonly posted: { repository: string; sha: string; status: CommitStatus }[] = [];
  failFor = new Set<string>();

  async post(repository: string, sha: string, status: CommitStatus): Promise<void> {
    if (this.failFor.has(status.context)) throw Object.assign(new Error('HTTP 502'), { name: 'CommitStatusFailed' });
    this.posted.push({ repository, sha, status });
  }
}

class RecordingLogger implements ReportLogger {
  readonly lines: { level: string; message: string; extra: unknown[] }[] = [];
  info(message: string, ...extra: unknown[]): void {
    this.lines.push({ level: 'info', message, extra });
  }
  warn(message: string, ...extra: unknown[]): void {
    this.lines.push({ level: 'warn', message, extra });
  }
}

function setup() {
  const store = new MemoryArtifactStore();
  const notifier = new RecordingNotifier();
  const statuses = new RecordingStatuses();
  const logger = new RecordingLogger();
  const history = new S3HistoryStore(store);
  return { store, notifier, statuses, logger, history, deps: { store, notifier, statuses, history, logger, executionArn: EXECUTION_ARN, region: 'us-east-1', branch: 'main' } };
}

describe('Function: publishReport', () => {
  it('stores the report, publishes it, posts the statuses and records the history', async () => {
    // Prepare
    const { store, notifier, statuses, deps } = setup();
    const report = buildReport({
      status: 'failed',
      stages: [
        lambdaStage({ name: 'build' }),
        fargateStage({ name: 'test', status: 'failed', errorName: 'CommandFailed', reason: 'npm test exited 1', exitCode: 1, escalated: true }),
        lambdaStage({ name: 'deploy', status: 'skipped', durationMs: 0, reason: 'needs test, which failed' }),
      ],
    });

    // Act
    const published = await publishReport(report, deps);

    // Assess: S3
    expect(JSON.parse((await store.getText('builds/delivery-72d3162e/report.json'))!)).toEqual(report);
    expect(store.objects.get('builds/delivery-72d3162e/report.json')!.contentType).toBe('application/json');
    const text = (await store.getText('builds/delivery-72d3162e/report.txt'))!;
    expect(text).toBe(published.summary);
    expect(text.split('\n')[0]).toBe('acme/api main: failed in 5m 02s · $0.0085 (predicted $0.0105) · 1/3 stages passed — failed: test');
    expect(text).toContain(CONSOLE_URL);
    expect(text).toContain('test: CommandFailed: npm test exited 1');

    // Assess: SNS
    expect(notifier.published).toHaveLength(1);
    expect(notifier.published[0]!.attributes).toEqual({ repository: 'acme/api', branch: 'main', status: 'failed', costUsd: 0.0085 });
    expect(notifier.published[0]!.message).toBe(published.notification.body);
    expect(JSON.parse(notifier.published[0]!.message)).toMatchObject({ buildId: 'delivery-72d3162e', link: CONSOLE_URL, stageCount: 3 });
    expect(published.messageId).toBe('message-1');

    // Assess: GitHub
    expect(statuses.posted.map((p) => [p.repository, p.sha, p.status.context, p.status.state, p.status.targetUrl])).toEqual([
      ['acme/api', report.sha, 'buildfarm', 'failure', CONSOLE_URL],
      ['acme/api', report.sha, 'buildfarm/build', 'success', CONSOLE_URL],
      ['acme/api', report.sha, 'buildfarm/test', 'failure', CONSOLE_URL],
      ['acme/api', report.sha, 'buildfarm/deploy', 'success', CONSOLE_URL],
    ]);

    // Assess: history, only for stages that ran, the escalation remembered
    expect(published.historyRecorded).toEqual(['build', 'test']);
    expect(await store.getText('history/acme/api/deploy.json')).toBeUndefined();
    expect(JSON.parse((await store.getText('history/acme/api/test.json'))!)).toEqual({ durationsMs: [302_000], peakMemoryMiB: 1500, peakDiskMiB: 3000, escalated: true });
    expect(JSON.parse((await store.getText('history/acme/api/build.json'))!)).toMatchObject({ durationsMs: [134_000], escalated: false });
  });

  it('posts no statuses when no GitHub token is configured', async () => {
    // Prepare
    const { notifier, deps } = setup();
    const { statuses: _ignored, ...withoutStatuses } = deps;

    // Act
    const published = await publishReport(buildReport(), withoutStatuses);

    // Assess
    expect(published.statuses).toEqual([]);
    expect(notifier.published).toHaveLength(1);
  });

  it('logs a status GitHub refused and carries on with the others and the history', async () => {
    // Prepare
    const { statuses, logger, store, deps } = setup();
    statuses.failFor.add('buildfarm');

    // Act
    const published = await publishReport(buildReport(), deps);

    // Assess
    expect(published.statuses.map((s) => [s.status.context, s.error])).toEqual([
      ['buildfarm', 'CommitStatusFailed: HTTP 502'],
      ['buildfarm/build', undefined],
      ['buildfarm/test', undefined],
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn')).toEqual([
      { level: 'warn', message: 'commit status not posted', extra: [{ buildId: 'delivery-72d3162e', context: 'buildfarm', error: 'CommitStatusFailed: HTTP 502' }] },
    ]);
    expect(await store.getText('history/acme/api/build.json')).toBeDefined();
  });

  it('logs a history write that failed instead of failing a finished build', async () => {
    // Prepare
    const { logger, deps } = setup();
    const failingHistory = { ...deps.history, loadHistory: deps.history.loadHistory.bind(deps.history), recordRun: async () => Promise.reject(new Error('SlowDown')) };

    // Act
    const published = await publishReport(buildReport(), { ...deps, history: failingHistory });

    // Assess
    expect(published.historyRecorded).toEqual([]);
    expect(published.historyFailed).toEqual([
      { stage: 'build', error: 'Error: SlowDown' },
      { stage: 'test', error: 'Error: SlowDown' },
    ]);
    expect(logger.lines.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual(['stage history not recorded', 'stage history not recorded']);
  });

  it('fails when SNS does, before any status or history is written, so the task can be retried', async () => {
    // Prepare
    const { notifier, statuses, store, deps } = setup();
    notifier.failWith = Object.assign(new Error('SNS down'), { name: 'PublishFailed' });

    // Act
    const attempt = publishReport(buildReport(), deps);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PublishFailed' });
    expect(await store.getText('builds/delivery-72d3162e/report.json')).toBeDefined();
    expect(statuses.posted).toEqual([]);
    expect([...store.objects.keys()].filter((k) => k.startsWith('history/'))).toEqual([]);
  });

  it('runs the caller\'s once-published work after the publication, beside the histories rather than after them', async () => {
    // Prepare: a history write held until the once-published work has started.
    const { notifier, deps } = setup();
    const events: string[] = [];
    let startedAlongside!: () => void;
    const alongside = new Promise<void>((resolve) => (startedAlongside = resolve));
    const history = {
      recordRun: async () => {
        events.push(`history, ${notifier.published.length} published`);
        await alongside;
        events.push('history written');
        return { durationsMs: [], peakMemoryMiB: 0, peakDiskMiB: 0, escalated: false };
      },
    };

    // Act
    await publishReport(buildReport({ stages: [lambdaStage({ name: 'build' })] }), {
      ...deps,
      history: history as never,
      alsoOncePublished: async () => {
        events.push(`once published, ${notifier.published.length} published`);
        startedAlongside();
      },
    });

    // Assess: it started while the history write was still waiting (so not after it), and only once published.
    expect(events).toEqual(['history, 1 published', 'once published, 1 published', 'history written']);
  });

  it('runs none of the once-published work when SNS fails', async () => {
    // Prepare
    const { notifier, deps } = setup();
    notifier.failWith = Object.assign(new Error('SNS down'), { name: 'PublishFailed' });
    let ran = false;

    // Act
    const attempt = publishReport(buildReport(), { ...deps, alsoOncePublished: async () => void (ran = true) });

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'PublishFailed' });
    expect(ran).toBe(false);
  });

  it('links the local dashboard instead of the console when given one, and derives the branch from the ref', async () => {
    // Prepare
    const { notifier, statuses, deps } = setup();
    const { branch: _branch, ...rest } = deps;

    // Act
    await publishReport(buildReport({ ref: 'refs/heads/release/2.x' }), { ...rest, link: 'http://127.0.0.1:8080/builds/delivery-72d3162e' });

    // Assess
    expect(notifier.published[0]!.attributes.branch).toBe('release/2.x');
    expect(JSON.parse(notifier.published[0]!.message).link).toBe('http://127.0.0.1:8080/builds/delivery-72d3162e');
    expect(new Set(statuses.posted.map((p) => p.status.targetUrl))).toEqual(new Set(['http://127.0.0.1:8080/builds/delivery-72d3162e']));
  });

  it('publishes a report of a build that never ran, with no history to record', async () => {
    // Prepare
    const { notifier, statuses, deps } = setup();
    const report = buildReport({ status: 'error', stages: [], totalCostUsd: 0.00003, error: { name: 'PipelineInvalid', message: '.buildfarm.yml:1:1 version: expected 1' } });

    // Act
    const published = await publishReport(report, deps);

    // Assess
    expect(notifier.published[0]!.attributes).toMatchObject({ status: 'error', costUsd: 0.00003 });
    expect(statuses.posted.map((p) => [p.status.context, p.status.state])).toEqual([['buildfarm', 'error']]);
    expect(statuses.posted[0]!.status.description).toContain('PipelineInvalid');
    expect(published.historyRecorded).toEqual([]);
  });

  it('stores the report and the history over the S3 protocol (s3rver)', async () => {
    // Prepare
    const s3 = await startS3rver();
    try {
      const store = new S3ArtifactStore(s3.client, s3.bucket);
      const notifier = new RecordingNotifier();
      const history = new S3HistoryStore(store);
      const report = buildReport();

      // Act
      await publishReport(report, { store, notifier, history, executionArn: EXECUTION_ARN, region: 'us-east-1' });
      await publishReport({ ...report, buildId: 'delivery-second', stages: [lambdaStage({ durationMs: 150_000 })] }, { store, notifier, history, executionArn: EXECUTION_ARN, region: 'us-east-1' });

      // Assess
      expect(JSON.parse((await store.getText('builds/delivery-72d3162e/report.json'))!)).toEqual(report);
      expect(await store.getText('builds/delivery-72d3162e/report.txt')).toContain('acme/api main: succeeded');
      expect(await history.loadHistory('acme/api', ['build', 'test'])).toEqual({
        build: { durationsMs: [134_000, 150_000], peakMemoryMiB: 700, peakDiskMiB: 120, escalated: false },
        test: { durationsMs: [302_000], peakMemoryMiB: 1500, peakDiskMiB: 3000, escalated: false },
      });
      expect(notifier.published.map((p) => p.attributes.costUsd)).toEqual([0.0085, 0.0085]);
    } finally {
      await s3.stop();
    }
  });
});
