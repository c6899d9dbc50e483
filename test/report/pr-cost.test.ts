import { describe, expect, it } from 'vitest';
import { commitStatuses } from '../../functions/domain/report/commit-statuses.js';
import { branchCostRecord, comparePrCost, describePrCost, parseBranchCostRecord, prCostStatus } from '../../functions/domain/report/pr-cost.js';
import type { BuildReport, StageReport } from '../../functions/domain/report/types.js';

const stage = (name: string, costUsd: number, status: StageReport['status'] = 'succeeded') => ({ name, costUsd, status }) as StageReport;
const report = (totalCostUsd: number, stages: StageReport[]) =>
  ({ buildId: 'pr-1', sha: 'f'.repeat(40), finishedAt: '2026-11-30T12:00:00Z', status: 'succeeded', totalCostUsd, stages }) as BuildReport;
const base = { buildId: 'main-9', sha: 'a'.repeat(40), finishedAt: '2026-11-30T11:00:00Z', totalCostUsd: 0.01, stages: { build: 0.004, test: 0.005 } };

describe('Function: comparePrCost', () => {
  it('compares the total and each stage with the base branch\'s last successful build (hand-computed)', () => {
    // 0.0123 / 0.0100 = +23%; test 0.007 / 0.005 = +40%; build 0.004 / 0.004 = 0; lint is new.
    const c = comparePrCost(report(0.0123, [stage('build', 0.004), stage('test', 0.007), stage('lint', 0.0003), stage('deploy', 0, 'skipped')]), base, 'main');
    expect(c.changePercent).toBe(23);
    expect(c.stages).toEqual([
      { name: 'build', costUsd: 0.004, baseCostUsd: 0.004, changePercent: 0 },
      { name: 'test', costUsd: 0.007, baseCostUsd: 0.005, changePercent: 40 },
      { name: 'lint', costUsd: 0.0003 },
    ]);
    expect(c.overThreshold).toBe(false);
    expect(describePrCost(c)).toBe('+23% vs main ($0.0123 vs $0.0100; most: test +40%)');
  });

  it('fails the status over the threshold, passes it at or under', () => {
    const over = comparePrCost(report(0.0123, [stage('build', 0.0123)]), base, 'main', 20);
    expect(prCostStatus(over, 'https://x')).toMatchObject({ context: 'buildfarm-cost', state: 'failure', description: '+23% vs main ($0.0123 vs $0.0100; most: build +207.5%) — over the 20% threshold' });
    const at = comparePrCost(report(0.0123, [stage('build', 0.0123)]), base, 'main', 23);
    expect(prCostStatus(at, 'https://x')).toMatchObject({ state: 'success', description: '+23% vs main ($0.0123 vs $0.0100; most: build +207.5%) — within 23%' });
    const cheaper = comparePrCost(report(0.008, [stage('build', 0.008)]), base, 'main', 0);
    expect(describePrCost(cheaper)).toBe('−20% vs main ($0.0080 vs $0.0100; most: build +100%) — within 0%');
  });

  it('adds the cost status after the build\'s and the stages\' statuses', () => {
    const r = { ...report(0.0123, [stage('build', 0.0123)]), durationMs: 1000, predictedCostUsd: 0.01, reason: undefined } as BuildReport;
    r.prCost = comparePrCost(r, base, 'main');
    expect(commitStatuses(r, 'https://x').map((s) => s.context)).toEqual(['buildfarm', 'buildfarm/build', 'buildfarm-cost']);
  });
});

describe('Function: branchCostRecord / parseBranchCostRecord', () => {
  it('records the stages that ran and reads back only a well-formed record', () => {
    const record = branchCostRecord(report(0.01, [stage('build', 0.004), stage('deploy', 0, 'skipped')]));
    expect(record.stages).toEqual({ build: 0.004 });
    expect(parseBranchCostRecord(JSON.stringify(record))).toEqual(record);
    expect(parseBranchCostRecord('{"buildId": 1}')).toBeUndefined();
    expect(parseBranchCostRecord('not json')).toBeUndefined();
  });
});
