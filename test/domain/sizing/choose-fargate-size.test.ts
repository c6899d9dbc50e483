import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../../functions/domain/pricing/price-book.js';
import { fargateHourlyUsd } from '../../../functions/domain/pricing/cost.js';
import { chooseFargateSize, NoFargateSize } from '../../../functions/domain/sizing/choose-fargate-size.js';
import { FARGATE_PAIRS, isValidFargatePair } from '../../../functions/domain/sizing/fargate-sizes.js';

const prices = regionPrices(DEFAULT_PRICE_BOOK, 'us-east-1');

// Requests a user can write: cpu in quarter vCPU steps up to 16, memory up to 120 GiB.
const request = fc.record({
  cpu: fc.integer({ min: 1, max: 64 }).map((q) => q / 4),
  memoryMiB: fc.integer({ min: 128, max: 122880 }),
  diskMiB: fc.integer({ min: 0, max: 200 * 1024 }),
});
const arch = fc.constantFrom('x86_64' as const, 'arm64' as const);

describe('Function: chooseFargateSize', () => {
  describe('the valid size table', () => {
    it('holds exactly the documented rows (Linux)', () => {
      // 3 + 4 + 7 + 13 + 23 + 12 + 12 pairs, one row per CPU size in AWS-FACTS.md.
      expect(FARGATE_PAIRS).toHaveLength(3 + 4 + 7 + 13 + 23 + 12 + 12);
      expect(isValidFargatePair(256, 512)).toBe(true);
      expect(isValidFargatePair(256, 1536)).toBe(false);
      expect(isValidFargatePair(8192, 20480)).toBe(true);
      expect(isValidFargatePair(8192, 17408)).toBe(false);
      expect(isValidFargatePair(16384, 122880)).toBe(true);
    });
  });

  it('picks a valid pair that covers the request', () => {
    fc.assert(
      fc.property(request, arch, (req, architecture) => {
        const size = chooseFargateSize(req, { architecture, spot: false }, prices);
        expect(isValidFargatePair(size.cpu, size.memory)).toBe(true);
        expect(size.cpu).toBeGreaterThanOrEqual(req.cpu * 1024);
        expect(size.memory).toBeGreaterThanOrEqual(req.memoryMiB);
        expect(size.ephemeralStorageGiB * 1024).toBeGreaterThanOrEqual(req.diskMiB);
        expect(size.ephemeralStorageGiB).toBeGreaterThanOrEqual(20);
        expect(size.ephemeralStorageGiB).toBeLessThanOrEqual(200);
      }),
    );
  });

  it('finds no cheaper valid pair that also covers the request', () => {
    fc.assert(
      fc.property(request, arch, (req, architecture) => {
        const size = chooseFargateSize(req, { architecture, spot: false }, prices);
        const chosen = fargateHourlyUsd(size.cpu, size.memory, prices, architecture);
        const cheaper = FARGATE_PAIRS.filter(
          (p) => p.cpu >= req.cpu * 1024 && p.memory >= req.memoryMiB && fargateHourlyUsd(p.cpu, p.memory, prices, architecture) < chosen,
        );
        expect(cheaper).toEqual([]);
      }),
    );
  });

  it('raises memory rather than CPU when that is cheaper: 1 vCPU with 1 GiB becomes 1 vCPU / 2 GiB', () => {
    const size = chooseFargateSize({ cpu: 1, memoryMiB: 1024, diskMiB: 512 }, { architecture: 'x86_64', spot: true }, prices);
    expect(size).toEqual({ cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: true });
  });

  it('says so when nothing covers the request', () => {
    expect(() => chooseFargateSize({ cpu: 17, memoryMiB: 1024, diskMiB: 0 }, { architecture: 'x86_64', spot: false }, prices)).toThrow(
      NoFargateSize,
    );
  });
});
