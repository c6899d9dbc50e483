/**
 * CPU in a stage's history (keyed by the stage's definition hash, like its memory peak): the
 * report records the run's peak and average vCPUs, the planner reads them back for right-sizing
 * and `resources: auto`.
 */
import { describe, expect, it } from 'vitest';
import { recordRun } from '../../../functions/domain/plan/predict.js';
import { parseStageHistory } from '../../../functions/domain/report/stage-history.js';
import { stageRun } from '../../../functions/domain/report/publish-report.js';
import { parseCpuUsage } from '../../../functions/domain/sizing/cpu-usage.js';

const run = { durationMs: 1000, peakMemoryMiB: 100, peakDiskMiB: 1, escalated: false };

describe('Function: recordRun (CPU)', () => {
  it('keeps the latest peak, or 90 % of a higher earlier one, and the latest average', () => {
    const first = recordRun(undefined, { ...run, cpu: { peakVcpu: 2, averageVcpu: 1.5 } });
    expect(first).toMatchObject({ peakVcpu: 2, averageVcpu: 1.5 });
    const second = recordRun(first, { ...run, cpu: { peakVcpu: 0.5, averageVcpu: 0.2 } });
    expect(second).toMatchObject({ peakVcpu: 1.8, averageVcpu: 0.2 });
  });

  it('a run nothing measured (a Fargate task on AWS) keeps what earlier runs measured; none ever measured: no CPU fields', () => {
    const measured = recordRun(undefined, { ...run, cpu: { peakVcpu: 1, averageVcpu: 0.5 } });
    expect(recordRun(measured, run)).toMatchObject({ peakVcpu: 1, averageVcpu: 0.5 });
    expect(recordRun(undefined, run)).not.toHaveProperty('peakVcpu');
  });
});

describe('Function: parseStageHistory (CPU)', () => {
  it('reads the CPU figures back, and drops malformed ones without dropping the history', () => {
    const stored = JSON.stringify(recordRun(undefined, { ...run, cpu: { peakVcpu: 1.25, averageVcpu: 0.75 } }));
    expect(parseStageHistory(stored)).toMatchObject({ peakVcpu: 1.25, averageVcpu: 0.75, peakMemoryMiB: 100 });
    const forged = parseStageHistory(JSON.stringify({ ...JSON.parse(stored), peakVcpu: -3 }))!;
    expect(forged.peakMemoryMiB).toBe(100);
    expect(forged).not.toHaveProperty('peakVcpu');
    // A history from before CPU was measured is still a history.
    expect(parseStageHistory(JSON.stringify({ durationsMs: [5], peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false }))).toEqual({ durationsMs: [5], peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false });
  });
});

describe('Function: stageRun and parseCpuUsage', () => {
  it('the report hands the stage result\'s CPU to the history; a malformed figure in a result record is not read', () => {
    const cpuUsage = { seconds: 4, wallSeconds: 2, averageVcpu: 2, peakVcpu: 2, source: 'process-tree' as const };
    const reported = { name: 's', status: 'succeeded', runner: 'lambda', durationMs: 3000, billedDurationMs: 3000, costUsd: 0, predictedCostUsd: 0, exitCode: 0, reason: '', escalated: false, artifacts: [], peakMemoryMiB: 10, peakDiskMiB: 1, cpuUsage } as const;
    expect(stageRun({ ...reported, artifacts: [] })).toMatchObject({ cpu: { peakVcpu: 2, averageVcpu: 2 } });
    expect(parseCpuUsage(cpuUsage)).toEqual(cpuUsage);
    expect(parseCpuUsage({ ...cpuUsage, peakVcpu: 'lots' })).toBeUndefined();
    expect(parseCpuUsage({ ...cpuUsage, source: 'made-up' })).toBeUndefined();
  });
});
