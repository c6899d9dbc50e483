import { describe, expect, it } from 'vitest';
import { PipeGrace } from '../../functions/runner/pipe-grace.js';

/** Resolves with the ms from `start` until the grace expires. */
function timeToExpiry(grace: PipeGrace, hardLimitMs: number, during?: (grace: PipeGrace) => void): Promise<number> {
  return new Promise((resolve) => {
    const startedAt = performance.now();
    grace.start(() => resolve(performance.now() - startedAt), hardLimitMs);
    during?.(grace);
  });
}

describe('Class: PipeGrace', () => {
  it('expires after the grace when the pipes are read all along', async () => {
    // Act
    const waited = await timeToExpiry(new PipeGrace(100), 10_000);
    // Assess
    expect(waited).toBeGreaterThanOrEqual(95);
    expect(waited).toBeLessThan(1_000);
  });

  it('does not count the time a pipe waits for the log', async () => {
    // Prepare: paused (the log behind) before the exit, read again 300 ms after it
    const grace = new PipeGrace(100);
    grace.paused();
    // Act
    const waited = await timeToExpiry(grace, 10_000, (running) => setTimeout(() => running.resumed(), 300));
    // Assess
    expect(waited).toBeGreaterThanOrEqual(390);
  });

  it('expires at the hard limit even while the log stays behind', async () => {
    // Prepare
    const grace = new PipeGrace(100);
    grace.paused();
    // Act
    const waited = await timeToExpiry(grace, 300);
    // Assess
    expect(waited).toBeGreaterThanOrEqual(295);
    expect(waited).toBeLessThan(2_000);
  });

  it('never expires once cancelled (the pipes closed)', async () => {
    // Prepare
    const grace = new PipeGrace(50);
    let expired = false;
    grace.start(() => (expired = true), 100);
    // Act
    grace.cancel();
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Assess
    expect(expired).toBe(false);
  });
});
