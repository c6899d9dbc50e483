/**
 * Issue 11's load and kill runs, reduced to fit `npm test` (the full runs are
 * scripts, `npm run hostile`; their figures are in test/hostile/README.md).
 * Both drive the real `buildfarm serve` from outside (CLI, HTTP API, /proc),
 * so they hold whether builds run in the farm's process or in children of it.
 */
import { describe, expect, it } from 'vitest';
import { MiB } from '../support/farm-api.js';
import { killLoop } from './load/kill-loop.js';
import { unsignedBodies } from './load/unsigned-bodies.js';

describe('Hostile load (issue 11, reduced)', () => {
  it('defends against kill -9 with deliveries in flight: 2 runs lose no acknowledged delivery and leave no orphan process', { timeout: 600_000 }, async () => {
    // Act
    const outcome = await killLoop({ runs: 2, deliveriesPerRun: 3, maxDelayMs: 3_000, freshDirectoryEvery: 2, settleTimeoutMs: 240_000 });
    // Assess
    expect(outcome.failures).toEqual([]);
    expect(outcome.figures.at(-1)).toMatchObject({ totals: { runs: 2, lost: 0, orphans: 0 } });
  });

  it('defends against 20 concurrent unsigned 25 MiB bodies: all refused, RSS within the 64 MiB budget plus overhead, the API answering', { timeout: 300_000 }, async () => {
    // Act
    const outcome = await unsignedBodies({ bodies: 20, bodyBytes: 25 * MiB, waves: 1 });
    // Assess
    expect(outcome.failures).toEqual([]);
  });
});
