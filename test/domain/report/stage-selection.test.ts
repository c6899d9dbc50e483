import { describe, expect, it } from 'vitest';
import { selectStages } from '../../../functions/domain/report/stage-selection.js';
import type { StageStatus } from '../../../functions/domain/report/types.js';

const earlier = (entries: Record<string, StageStatus>) => new Map(Object.entries(entries));

describe('Function: selectStages', () => {
  it('runs stages whose dependencies all succeeded', () => {
    const selection = selectStages({ wave: [{ name: 'test', needs: ['build'] }, { name: 'lint', needs: [] }], earlier: earlier({ build: 'succeeded' }), failFast: false });
    expect(selection).toEqual({ run: ['test', 'lint'], skipped: [] });
  });

  it('skips dependents of failed, timed-out, skipped or unrecorded stages, saying which', () => {
    const selection = selectStages({
      wave: [
        { name: 'a', needs: ['failed'] },
        { name: 'b', needs: ['slow', 'ok'] },
        { name: 'c', needs: ['gone'] },
        { name: 'd', needs: ['missing'] },
      ],
      earlier: earlier({ failed: 'failed', slow: 'timed_out', ok: 'succeeded', gone: 'skipped' }),
      failFast: false,
    });
    expect(selection.run).toEqual([]);
    expect(selection.skipped).toEqual([
      { name: 'a', reason: 'needs failed failed' },
      { name: 'b', reason: 'needs slow timed out' },
      { name: 'c', reason: 'needs gone was skipped' },
      { name: 'd', reason: 'needs missing has no result' },
    ]);
  });

  it('with fail-fast skips every stage after a failure', () => {
    const selection = selectStages({ wave: [{ name: 'docs', needs: [] }], earlier: earlier({ build: 'failed' }), failFast: true });
    expect(selection).toEqual({ run: [], skipped: [{ name: 'docs', reason: 'fail-fast: build failed' }] });
  });

  it('without fail-fast runs independent stages after a failure', () => {
    const selection = selectStages({ wave: [{ name: 'docs', needs: [] }], earlier: earlier({ build: 'failed' }), failFast: false });
    expect(selection.run).toEqual(['docs']);
  });
});
