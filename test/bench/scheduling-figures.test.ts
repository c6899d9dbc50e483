/**
 * The figures of the chain and critical-path benchmarks are computed from a build's records;
 * these check the arithmetic on hand-made records, so a wrong figure cannot reach the README.
 */
import { describe, expect, it } from 'vitest';
import { sharesOf } from '../../bench/chain.js';
import { timingsOf } from '../../bench/critical-path.js';
import type { ProxiedRequest } from '../../bench/lib/counting-proxy.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { stageResultKey } from '../../functions/domain/storage-keys.js';
import { slope } from '../../bench/lib/stats.js';

const at = (second: number) => new Date(Date.UTC(2026, 11, 1, 0, 0, second)).toISOString();

describe('Function: timingsOf', () => {
  it('gives the longest chain of durations as the critical path and the sum of each wave\'s slowest stage as the waves\' figure', () => {
    // Prepare: a 0-1, b 0-8, c 1-2 (after a), d 2-3 (after c)
    const stages = [
      { name: 'a', startedAt: at(0), finishedAt: at(1) },
      { name: 'b', startedAt: at(0), finishedAt: at(8) },
      { name: 'c', startedAt: at(1), finishedAt: at(2) },
      { name: 'd', startedAt: at(2), finishedAt: at(3) },
    ];
    const report = { stages } as unknown as BuildReport;

    // Act
    const timings = timingsOf(report, { a: [], b: [], c: ['a'], d: ['c'] });

    // Assess: waves [a, b], [c], [d] would take 8 + 1 + 1
    expect(timings.stagesWallMs).toBe(8000);
    expect(timings.criticalPathMs).toBe(8000);
    expect(timings.wavesMs).toBe(10_000);
    expect(timings.stages.d).toEqual({ startMs: 2000, endMs: 3000, durationMs: 1000 });
  });
});

describe('Function: sharesOf', () => {
  it('gives each stage the requests after the previous stage\'s result PUT, up to and with its own', () => {
    // Prepare
    let order = 0;
    const request = (method: string, key: string, second: number): ProxiedRequest => ({ method, path: `/bucket/${key}`, order: order++, at: second * 1000 });
    const requests = [
      request('GET', 'builds/x/plan.json', 0),
      request('PUT', stageResultKey('x', 's1'), 1),
      request('GET', 'waits/x/s2.json', 2),
      request('GET', 'builds/x/source.tar.gz', 2),
      request('PUT', stageResultKey('x', 's2'), 3),
      request('GET', 'builds/x/source.tar.gz', 4),
      request('PUT', `${stageResultKey('x', 's3')}?x-id=PutObject`, 6),
    ];

    // Act
    const shares = sharesOf(requests, 'x', [
      { name: 's1', durationMs: 500 },
      { name: 's2', durationMs: 600 },
      { name: 's3', durationMs: 700 },
    ]);

    // Assess: s1 is left out (its window holds the plan's work)
    expect(shares).toEqual([
      { stage: 's2', requests: 3, gets: 2, puts: 1, cycleMs: 2000, runMs: 600 },
      { stage: 's3', requests: 2, gets: 1, puts: 1, cycleMs: 3000, runMs: 700 },
    ]);
  });

  it('names the stage whose result never reached S3', () => {
    expect(() => sharesOf([], 'x', [{ name: 's1', durationMs: 1 }])).toThrow(`no PUT of ${stageResultKey('x', 's1')} reached S3`);
  });
});

describe('Function: slope', () => {
  it('is zero for a constant series and the step for a linear one', () => {
    expect(slope([16, 16, 16, 16])).toBe(0);
    expect(slope([100, 120, 140, 160, 180])).toBeCloseTo(20);
  });
});
