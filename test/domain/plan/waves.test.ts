import { describe, expect, it } from 'vitest';
import { computeWaves, DependencyCycle, upstreamOf } from '../../../functions/domain/plan/waves.js';

describe('Function: computeWaves', () => {
  it('puts each stage one wave after its last need, keeping file order in a wave', () => {
    const waves = computeWaves([
      { name: 'lint', needs: [] },
      { name: 'build', needs: [] },
      { name: 'test', needs: ['build'] },
      { name: 'package', needs: ['test', 'lint'] },
      { name: 'docs', needs: ['build'] },
    ]);
    expect(waves).toEqual([['lint', 'build'], ['test', 'docs'], ['package']]);
  });

  it('names the stages of a cycle', () => {
    const run = () => computeWaves([{ name: 'a', needs: ['c'] }, { name: 'b', needs: ['a'] }, { name: 'c', needs: ['b'] }, { name: 'd', needs: [] }]);
    expect(run).toThrow(DependencyCycle);
    expect(run).toThrow(/a -> c -> b -> a/);
  });
});

describe('Function: upstreamOf', () => {
  it('follows needs through other stages', () => {
    const needs = new Map([['a', []], ['b', ['a']], ['c', ['b']], ['d', ['c', 'a']]] as [string, string[]][]);
    expect(upstreamOf('d', needs)).toEqual(['a', 'b', 'c']);
    expect(upstreamOf('a', needs)).toEqual([]);
  });
});
