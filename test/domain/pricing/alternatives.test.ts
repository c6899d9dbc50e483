import { describe, expect, it } from 'vitest';
import { allFargateCostUsd, codeBuildCostUsd } from '../../../functions/domain/pricing/alternatives.js';
import { codeBuildCost } from '../../../functions/domain/pricing/codebuild.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../../functions/domain/pricing/price-book.js';

const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');
const small = { fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64' as const, spot: true } };

describe('Function: codeBuildCost', () => {
  it('bills per started minute on the smallest covering type', () => {
    expect(codeBuildCost(1, 2048, 61_000)).toEqual({ type: 'general1.small', costUsd: 0.01 });
    expect(codeBuildCost(4, 4096, 1_000)).toEqual({ type: 'general1.medium', costUsd: 0.01 });
  });
});

describe('Function: allFargateCostUsd', () => {
  it('prices every stage on demand, without Spot', () => {
    const twoStages = [{ stage: small, durationMs: 30_000 }, { stage: small, durationMs: 120_000 }];
    const expected = ((0.04048 + 2 * 0.004445) * (60 + 120)) / 3600;
    expect(allFargateCostUsd(twoStages, prices)).toBeCloseTo(expected, 12);
    expect(codeBuildCostUsd(twoStages)).toBeCloseTo(0.005 + 0.01, 12);
  });
});
