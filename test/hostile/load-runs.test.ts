/**
 * Issue 11's kill run, reduced to fit `npm test` (the full runs are scripts, `npm run hostile`;
 * their figures are in test/hostile/README.md; 150 unsigned bodies are unsigned-load.test.ts).
 * It drives the real `buildfarm serve` from outside (CLI, HTTP API, /proc), so it holds whether
 * builds run in the farm's process or in children of it.
 */
import { describe, expect, it } from 'vitest';
import { killLoop } from './load/kill-loop.js';

describe('Hostile load (issue 11, reduced)', () => {
  it('defends against kill -9 with deliveries in flight: 2 runs lose no acknowledged delivery and leave no orphan process', { timeout: 600_000 }, async () => {
    // Act
    const outcome = await killLoop({ runs: 2, deliveriesPerRun: 3, maxDelayMs: 3_000, freshDirectoryEvery: 2, settleTimeoutMs: 240_000 });
    // Assess
    expect(outcome.failures).toEqual([]);
    expect(outcome.figures.at(-1)).toMatchObject({ totals: { runs: 2, lost: 0, orphans: 0 } });
  });
});
