import { describe, expect, it } from 'vitest';
import { BatchLimitInvalid, computeBatches, dependentsOf } from '../../../functions/domain/plan/batches.js';
import { computeWaves, type DagNode } from '../../../functions/domain/plan/waves.js';

const UNEVEN: DagNode[] = [
  { name: 'a', needs: [] },
  { name: 'b', needs: [] },
  { name: 'c', needs: ['a'] },
  { name: 'd', needs: ['c'] },
];

function batchesOf(nodes: DagNode[], limit: number) {
  return computeBatches(computeWaves(nodes), nodes, limit);
}

describe('Function: computeBatches', () => {
  it('puts a pipeline no bigger than the concurrency in one batch, where d waits only for c', () => {
    expect(batchesOf(UNEVEN, 4)).toEqual([
      {
        stages: [
          { name: 'a', waits: false, releases: true },
          { name: 'b', waits: false, releases: false },
          { name: 'c', waits: true, releases: true },
          { name: 'd', waits: true, releases: false },
        ],
      },
    ]);
  });

  it('never makes a batch with waiting stages bigger than the limit, so no wait outlasts a free slot', () => {
    // 45 stages: 1 root, 43 in the middle, 1 fan-in; limit 40
    const nodes: DagNode[] = [{ name: 'root', needs: [] }];
    for (let i = 0; i < 43; i += 1) nodes.push({ name: `m${i}`, needs: ['root'] });
    nodes.push({ name: 'fanin', needs: nodes.slice(1).map((n) => n.name) });
    const batches = batchesOf(nodes, 40);
    for (const batch of batches) {
      const waiting = batch.stages.some((s) => s.waits);
      if (batch.stages.length > 40) expect(waiting).toBe(false);
    }
    expect(batches.map((b) => b.stages.length)).toEqual([1, 43, 1]);
    expect(batches.flatMap((b) => b.stages.map((s) => s.name)).sort()).toEqual(nodes.map((n) => n.name).sort());
  });

  it('merges whole waves while they fit and marks only needs inside the batch', () => {
    const nodes: DagNode[] = [
      { name: 'a', needs: [] },
      { name: 'b', needs: ['a'] },
      { name: 'c', needs: ['b'] },
      { name: 'd', needs: ['c'] },
    ];
    const batches = batchesOf(nodes, 2);
    expect(batches).toEqual([
      { stages: [{ name: 'a', waits: false, releases: true }, { name: 'b', waits: true, releases: false }] },
      { stages: [{ name: 'c', waits: false, releases: true }, { name: 'd', waits: true, releases: false }] },
    ]);
  });

  it('keeps every stage after all its needs (a topological order), so earlier batches hold the rest of the needs', () => {
    const nodes: DagNode[] = Array.from({ length: 30 }, (_, i) => ({ name: `s${i}`, needs: i === 0 ? [] : [`s${Math.floor((i - 1) / 3)}`] }));
    const order = batchesOf(nodes, 5).flatMap((b) => b.stages.map((s) => s.name));
    for (const node of nodes) for (const need of node.needs) expect(order.indexOf(need)).toBeLessThan(order.indexOf(node.name));
  });

  it('refuses a limit that is not a positive integer', () => {
    expect(() => batchesOf(UNEVEN, 0)).toThrow(BatchLimitInvalid);
    expect(() => batchesOf(UNEVEN, 1.5)).toThrow('a batch limit is a positive integer, not 1.5');
  });
});

describe('Function: dependentsOf', () => {
  it('lists each stage\'s direct dependents', () => {
    expect(dependentsOf(UNEVEN)).toEqual(new Map([['a', ['c']], ['b', []], ['c', ['d']], ['d', []]]));
  });
});
