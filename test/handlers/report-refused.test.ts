/**
 * The Report task for a build the farm refused (handlers/report.ts, domain/report/*): status
 * `refused`, the reason with the setting and the figures in report.json, report.txt, the SNS
 * message and attributes, and one commit status that blocks a required check.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { MAX_STATUS_DESCRIPTION } from '../../functions/domain/report/commit-statuses.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { ReportMessage } from '../../functions/domain/report/notification.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import type { ReportTaskInput } from '../../functions/handlers/build-state-machine.js';
import { reportTask } from '../../functions/handlers/report.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import { REQUEST } from '../statemachine/support/farm.js';
import { MemoryNotifier, MemoryStore } from '../statemachine/support/memory-store.js';

const REASON = 'predicted $1.18 exceeds the fork build limit $0.50 (BUILDFARM_MAX_FORK_BUILD_COST_USD / MaxForkBuildCostUsd)';

class RecordingStatuses implements CommitStatusPort {
  readonly posted: CommitStatus[] = [];
  async post(_repository: string, _sha: string, status: CommitStatus): Promise<void> {
    this.posted.push(status);
  }
}

function refusedInput(reason = REASON, predictedCostUsd = 1.18): ReportTaskInput {
  const plan = { planKey: 'builds/b/plan.json', build: false, refused: true, secretsWithheld: true, predictedCostUsd, reason, failFast: false, maxStageConcurrency: 4, batches: [] };
  return { buildId: 'b', startedAt: '2026-11-22T12:00:00.000Z', executionArn: 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b', state: { request: { ...REQUEST, fromFork: true }, plan } };
}

async function report(input: ReportTaskInput) {
  // No plan object in the store: the report must not need one (a missing key is a 403 on AWS without s3:ListBucket).
  const store = new MemoryStore();
  const notifier = new MemoryNotifier();
  const statuses = new RecordingStatuses();
  const output = await reportTask(input, {
    store,
    notifier,
    statuses,
    costs: pricedCostModel(DEFAULT_PRICE_BOOK.regions['us-east-1']!),
    now: () => new Date('2026-11-22T12:00:02.000Z'),
    region: 'us-east-1',
  });
  return { output, store, notifier, statuses };
}

describe('Function: reportTask (refused build)', () => {
  it('writes a refused report with the reason and the prediction, and no stages', async () => {
    // Act
    const { output, store } = await report(refusedInput());

    // Assess
    const written = store.json<BuildReport>('builds/b/report.json')!;
    expect(output.status).toBe('refused');
    expect(written).toMatchObject({ status: 'refused', reason: REASON, predictedCostUsd: 1.18, stages: [] });
    expect(written.error).toBeUndefined();
    expect(written.costBreakdown.computeUsd).toBe(0);
    expect(await store.getText('builds/b/report.txt')).toContain(`refused     ${REASON}`);
  });

  it('publishes status refused (an attribute subscriptions can filter on) with the reason in the message', async () => {
    // Act
    const { notifier } = await report(refusedInput());

    // Assess
    const [published] = notifier.messages;
    expect(published!.attributes).toMatchObject({ status: 'refused' });
    const message = JSON.parse(published!.message) as ReportMessage;
    expect(message).toMatchObject({ status: 'refused', reason: REASON, stageCount: 0 });
    expect(message.headline).toContain('refused');
  });

  it('posts one commit status, state error, whose description carries the reason', async () => {
    // Act
    const { statuses } = await report(refusedInput());

    // Assess
    expect(statuses.posted).toHaveLength(1);
    expect(statuses.posted[0]).toMatchObject({ context: 'buildfarm', state: 'error' });
    expect(statuses.posted[0]!.description).toMatch(/^refused in 2s · \$0\.\d{4} — predicted \$1\.18 exceeds the fork build limit \$0\.50/);
    expect(statuses.posted[0]!.description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
  });

  it('keeps a long reason within GitHub\'s 140 characters', async () => {
    // Act
    const { statuses } = await report(refusedInput(`${'very '.repeat(60)}long reason`));

    // Assess
    expect(statuses.posted[0]!.description.length).toBeLessThanOrEqual(MAX_STATUS_DESCRIPTION);
    expect(statuses.posted[0]!.description).toMatch(/^refused in 2s · \$0\.\d{4} — very very .*…$/);
  });
});
