import { describe, expect, it } from 'vitest';
import { fargateCost, lambdaCost, orchestrationCost, s3RequestCost } from '../../../functions/domain/pricing/cost.js';
import { DEFAULT_PRICE_BOOK, pricingRegion, regionPrices, UnknownRegion } from '../../../functions/domain/pricing/price-book.js';

const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');

describe('Function: fargateCost', () => {
  it('bills a 1 vCPU / 2 GB task that runs 30 s for the 60 s minimum', () => {
    // (1 x $0.04048 + 2 x $0.004445) per hour x 60 s / 3600 s
    const cost = fargateCost({ cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false }, 30_000, prices);
    expect(cost.billedDurationMs).toBe(60_000);
    expect(cost.costUsd).toBeCloseTo(((0.04048 + 2 * 0.004445) * 60) / 3600, 12);
  });

  it('rounds up to the whole second past the minimum', () => {
    const cost = fargateCost({ cpu: 2048, memory: 4096, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false }, 90_001, prices);
    expect(cost.billedDurationMs).toBe(91_000);
    expect(cost.costUsd).toBeCloseTo(((2 * 0.04048 + 4 * 0.004445) * 91) / 3600, 12);
  });

  it('uses arm64 rates and bills storage above 20 GB', () => {
    // 4 vCPU / 8 GB arm64 for 10 minutes with 50 GiB storage: 30 GB extra.
    const cost = fargateCost({ cpu: 4096, memory: 8192, ephemeralStorageGiB: 50, architecture: 'arm64', spot: false }, 600_000, prices);
    const expected = (4 * 0.03238 + 8 * 0.00356) / 6 + (30 * 0.000111) / 6;
    expect(cost.costUsd).toBeCloseTo(expected, 12);
  });

  it('takes the Spot discount off compute only', () => {
    const onDemand = fargateCost({ cpu: 1024, memory: 2048, ephemeralStorageGiB: 21, architecture: 'x86_64', spot: false }, 3_600_000, prices);
    const spot = fargateCost({ cpu: 1024, memory: 2048, ephemeralStorageGiB: 21, architecture: 'x86_64', spot: true }, 3_600_000, prices);
    const storage = 0.000111;
    expect(spot.costUsd - storage).toBeCloseTo((onDemand.costUsd - storage) * (1 - 0.69), 12);
  });
});

describe('Function: lambdaCost', () => {
  it('bills GB-seconds at 1 ms granularity plus the request', () => {
    // 2048 MB for 1234.2 ms: billed 1235 ms = 2 GB x 1.235 s.
    const cost = lambdaCost({ memoryMB: 2048, ephemeralStorageMB: 512, architecture: 'x86_64' }, 1234.2, prices);
    expect(cost.billedDurationMs).toBe(1235);
    expect(cost.costUsd).toBeCloseTo(2 * 1.235 * 0.0000166667 + 0.0000002, 15);
  });

  it('bills /tmp above 512 MB', () => {
    // 1024 MB arm64, 10 s, 2560 MB /tmp: 2 GB of extra storage.
    const cost = lambdaCost({ memoryMB: 1024, ephemeralStorageMB: 2560, architecture: 'arm64' }, 10_000, prices);
    expect(cost.costUsd).toBeCloseTo(1 * 10 * 0.0000133334 + 0.0000002 + 2 * 10 * 0.0000000309, 15);
  });
});

describe('Function: orchestrationCost and s3RequestCost', () => {
  it('prices state transitions and S3 requests from the table', () => {
    expect(orchestrationCost(1000, prices)).toBeCloseTo(0.025, 12);
    expect(s3RequestCost(1000, 1000, prices)).toBeCloseTo(0.005 + 0.0004, 12);
  });
});

describe('Function: regionPrices', () => {
  it('names the known regions when asked for an unknown one', () => {
    expect(() => regionPrices(DEFAULT_PRICE_BOOK, 'mars-1')).toThrow(UnknownRegion);
    expect(() => regionPrices(DEFAULT_PRICE_BOOK, 'mars-1')).toThrow(/known: us-east-1/);
  });
});

describe('Function: pricingRegion', () => {
  it('prices a farm in a region the book lacks at us-east-1, and says it fell back', () => {
    expect(pricingRegion(DEFAULT_PRICE_BOOK, 'us-east-1')).toEqual({ region: 'us-east-1', fallback: false });
    expect(pricingRegion(DEFAULT_PRICE_BOOK, 'eu-west-1')).toEqual({ region: 'us-east-1', fallback: true });
  });
});
