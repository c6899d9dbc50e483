import { describe, expect, it } from 'vitest';
import { findCycles } from '../../../functions/domain/pipeline/needs-graph.js';
import { readPipeline } from '../../../functions/domain/pipeline/parse.js';

describe('Function: findCycles', () => {
  const pipelineOf = (needs: Record<string, string[]>) =>
    readPipeline(['version: 1', 'stages:', ...Object.entries(needs).map(([name, list]) => `  ${name}: { commands: [x], needs: [${list.join(', ')}] }`)].join('\n'))
      .pipeline!;

  it('names a two-stage cycle in order from the first stage in the file', () => {
    expect(findCycles(pipelineOf({ a: ['b'], b: ['a'] }))).toEqual([['a', 'b', 'a']]);
  });

  it('reports one cycle per tangle and ignores acyclic parts', () => {
    // Prepare
    const pipeline = pipelineOf({ x: [], a: ['b'], b: ['c'], c: ['a', 'x'], d: ['e'], e: ['d'], f: ['a'] });

    // Act
    const cycles = findCycles(pipeline);

    // Assess
    expect(cycles).toEqual([
      ['a', 'b', 'c', 'a'],
      ['d', 'e', 'd'],
    ]);
  });

  it('leaves self-needs to their own rule', () => {
    expect(findCycles(pipelineOf({ a: ['a'] }))).toEqual([]);
  });

  it('handles a long chain of needs without recursion limits', () => {
    // Prepare: 3000 stages, each needing the previous one, and the first needing the last
    const needs: Record<string, string[]> = {};
    for (let i = 0; i < 3000; i++) needs[`s${i}`] = [i === 0 ? 's2999' : `s${i - 1}`];

    // Act
    const cycles = findCycles(pipelineOf(needs));

    // Assess
    expect(cycles).toHaveLength(1);
    expect(cycles[0]).toHaveLength(3001);
    expect(cycles[0][0]).toBe('s0');
    expect(cycles[0][1]).toBe('s2999');
  });
});
