import { describe, expect, it } from 'vitest';
import { planKey, reportKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import type { ExecutionStatusChangeEvent } from '../../functions/domain/report/execution-end.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { reportExecutionEnd, UnreportableExecution } from '../../functions/handlers/report-execution-end.js';
import { handler } from '../../functions/handlers/report.js';
import { loadEvent } from '../support/events.js';
import { createFarm, PRICES, REQUEST } from '../statemachine/support/farm.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import { MemoryNotifier, MemoryStore } from '../statemachine/support/memory-store.js';

const ABORTED = () => loadEvent<ExecutionStatusChangeEvent>('report-execution-aborted.json');
const BUILD = ABORTED().detail.name;

function deps(store: MemoryStore) {
  const notifier = new MemoryNotifier();
  return { notifier, deps: { store, notifier, costs: pricedCostModel(PRICES), now: () => new Date('2026-11-22T12:04:00Z'), region: 'us-east-1' } };
}

describe('Function: reportExecutionEnd (EventBridge: an execution that ended without Report)', () => {
  it('reports a build stopped by StopExecution (superseded) as cancelled, with the stop cause, and publishes it', async () => {
    // Prepare: Plan ran and one stage finished before the stop
    const store = new MemoryStore();
    const farm = createFarm({ test: { runner: 'lambda' }, deploy: { runner: 'lambda', needs: ['test'] } }, { store });
    await farm.bindings.plan({ buildId: BUILD, request: REQUEST, executionArn: ABORTED().detail.executionArn, maxStageConcurrency: '4' });
    await store.put(stageResultKey(BUILD, 'test'), JSON.stringify({ buildId: BUILD, stage: 'test', status: 'succeeded', runner: 'lambda', exitCode: 0, reason: '', startedAt: '2026-11-22T12:01:00.000Z', finishedAt: '2026-11-22T12:02:00.000Z', durationMs: 60_000, peakMemoryMiB: 100, peakDiskMiB: 10, logKey: 'l', manifestKey: 'm', artifactCount: 0, artifactBytes: 0 }));
    const { notifier, deps: d } = deps(store);

    // Act
    const output = await reportExecutionEnd(ABORTED(), d);

    // Assess
    expect(output).toMatchObject({ status: 'cancelled', reportKey: reportKey(BUILD) });
    const report = store.json<BuildReport>(reportKey(BUILD))!;
    expect(report.error).toEqual({ name: 'ExecutionAborted', message: 'superseded by a newer push to master (d-2)' });
    expect(report.stages.map((s) => [s.name, s.status])).toEqual([['test', 'succeeded'], ['deploy', 'skipped']]);
    expect(notifier.messages).toHaveLength(1);
    expect(notifier.messages[0]!.attributes.status).toBe('cancelled');
  });

  it('reports an execution that failed outside every Catch (States.DataLimitExceeded) as an error, before any plan', async () => {
    // Prepare
    const event = ABORTED();
    event.detail = { ...event.detail, status: 'FAILED', error: 'States.DataLimitExceeded', cause: 'The state/task returned a result with a size exceeding the maximum number of bytes service limit.' };
    const store = new MemoryStore();

    // Act
    const output = await reportExecutionEnd(event, deps(store).deps);

    // Assess
    expect(output.status).toBe('error');
    expect(store.json<BuildReport>(reportKey(BUILD))!.error?.name).toBe('States.DataLimitExceeded');
  });

  it('does nothing when the Report state already stored the report (idempotent)', async () => {
    // Prepare
    const store = new MemoryStore();
    await store.put(reportKey(BUILD), JSON.stringify({ status: 'succeeded', totalCostUsd: 0.5 }));
    const { notifier, deps: d } = deps(store);

    // Act
    const output = await reportExecutionEnd(ABORTED(), d);

    // Assess
    expect(output).toEqual({ status: 'succeeded', totalCostUsd: 0.5, reportKey: reportKey(BUILD) });
    expect(notifier.messages).toHaveLength(0);
    expect(store.json(stageResultKey(BUILD, 'test'))).toBeUndefined();
  });

  it('settles the budget when the Report state published but died before settling: the actual is recorded and the reservation released', async () => {
    // Prepare: report.json exists, the plan names its reservation, nothing was settled
    const store = new MemoryStore();
    await store.put(reportKey(BUILD), JSON.stringify({ buildId: BUILD, repository: 'octo/app', status: 'succeeded', totalCostUsd: 0.5, finishedAt: '2026-11-22T12:03:00.000Z' }));
    await store.put(planKey(BUILD), JSON.stringify({ budgetReservation: 'spend/reserved/octo/app/500000-1-2-' + BUILD }));
    const calls: string[] = [];
    const spend = {
      entriesOf: async () => [],
      reservations: async () => [],
      reserve: async () => '',
      record: async (entry: { buildId: string; costUsd: number }) => void calls.push(`record ${entry.buildId} ${entry.costUsd}`),
      release: async (key: string) => void calls.push(`release ${key}`),
    };

    // Act
    const output = await reportExecutionEnd(ABORTED(), { ...deps(store).deps, spend });

    // Assess: recorded first, then released (a Plan listing reservations, then entries, sees it once)
    expect(output.status).toBe('succeeded');
    expect(calls).toEqual([`record ${BUILD} 0.5`, `release spend/reserved/octo/app/500000-1-2-${BUILD}`]);
  });

  it('refuses an event without the execution input, by name', async () => {
    const event = ABORTED();
    event.detail = { ...event.detail, input: null, inputDetails: { included: false } };
    await expect(reportExecutionEnd(event, deps(new MemoryStore()).deps)).rejects.toThrow(UnreportableExecution);
  });

  it('is what the report function does with the event (the rule in template.yaml targets it)', async () => {
    // The handler dispatches on the event's shape; without AWS wiring it fails on the environment, not on the shape.
    await expect(handler(ABORTED())).rejects.toThrow(/ARTIFACT_BUCKET|BUILD_REPORTS_TOPIC_ARN|environment/);
  });
});
