import { describe, expect, it } from 'vitest';
import { HISTORY_DURATIONS_KEPT, nextHistory } from '../../../functions/domain/report/history.js';
import type { StageReport } from '../../../functions/domain/report/types.js';

function stage(fields: Partial<StageReport>): StageReport {
  return {
    name: 'test',
    status: 'succeeded',
    runner: 'lambda',
    durationMs: 1000,
    billedDurationMs: 1000,
    costUsd: 0,
    predictedCostUsd: 0,
    exitCode: 0,
    reason: '',
    escalated: false,
    artifacts: [],
    peakMemoryMiB: 300,
    peakDiskMiB: 40,
    ...fields,
  };
}

describe('Function: nextHistory', () => {
  it('appends a succeeded run and keeps its peaks', () => {
    const next = nextHistory({ durationsMs: [900], peakMemoryMiB: 200, peakDiskMiB: 10, escalated: false }, stage({ durationMs: 1100 }));
    expect(next).toEqual({ durationsMs: [900, 1100], peakMemoryMiB: 300, peakDiskMiB: 40, escalated: false });
  });

  it('keeps only the newest durations', () => {
    const previous = { durationsMs: Array.from({ length: HISTORY_DURATIONS_KEPT }, (_, i) => i), peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false };
    const next = nextHistory(previous, stage({ durationMs: 999 }));
    expect(next?.durationsMs).toHaveLength(HISTORY_DURATIONS_KEPT);
    expect(next?.durationsMs.at(-1)).toBe(999);
    expect(next?.durationsMs[0]).toBe(1);
  });

  it('remembers an escalation even when the Fargate run failed', () => {
    const next = nextHistory(undefined, stage({ status: 'failed', escalated: true }));
    expect(next).toEqual({ durationsMs: [], peakMemoryMiB: 0, peakDiskMiB: 0, escalated: true });
  });

  it('records nothing for a failed or skipped stage', () => {
    expect(nextHistory(undefined, stage({ status: 'failed' }))).toBeUndefined();
    expect(nextHistory(undefined, stage({ status: 'skipped' }))).toBeUndefined();
  });
});
