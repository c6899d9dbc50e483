import { describe, expect, it } from 'vitest';
import { fargateBilledMs, fargateBilledMsFromDuration, lambdaBilledMs } from '../../../functions/domain/report/billing.js';

describe('Function: lambdaBilledMs', () => {
  it('rounds up to the millisecond', () => {
    expect(lambdaBilledMs(100.01)).toBe(101);
    expect(lambdaBilledMs(100)).toBe(100);
  });
});

describe('Function: fargateBilledMs', () => {
  it('rounds up to the second with a one-minute minimum', () => {
    expect(fargateBilledMs(0, 59_000)).toBe(60_000);
    expect(fargateBilledMs(0, 60_001)).toBe(61_000);
    expect(fargateBilledMs(1_000, 121_000)).toBe(120_000);
  });

  it('bills nothing for a task that never started pulling its image', () => {
    expect(fargateBilledMs(undefined, 10_000)).toBe(0);
  });

  it('applies the same rules to a measured duration', () => {
    expect(fargateBilledMsFromDuration(90_500)).toBe(91_000);
    expect(fargateBilledMsFromDuration(0)).toBe(60_000);
  });
});
