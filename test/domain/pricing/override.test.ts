import { describe, expect, it } from 'vitest';
import { InvalidPrices, mergePriceBook } from '../../../functions/domain/pricing/override.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';

describe('Function: mergePriceBook', () => {
  it('overrides one price and keeps the rest', () => {
    const book = mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'us-east-1': { fargateSpotDiscount: 0.5, x86_64: { fargateVcpuHour: 0.05 } } } }, 'prices.json');
    expect(book.regions['us-east-1'].fargateSpotDiscount).toBe(0.5);
    expect(book.regions['us-east-1'].x86_64.fargateVcpuHour).toBe(0.05);
    expect(book.regions['us-east-1'].x86_64.fargateGbHour).toBe(0.004445);
    expect(book.source).toMatch(/overridden by prices.json/);
  });

  it('adds a new region only when every price is given', () => {
    const full = DEFAULT_PRICE_BOOK.regions['us-east-1'];
    const book = mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'eu-west-1': full } }, 'p.json');
    expect(book.regions['eu-west-1']).toEqual(full);
    expect(() => mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'eu-west-1': { stateTransition: 0.00003 } } }, 'p.json')).toThrow(
      /p.json: regions.eu-west-1.x86_64: missing/,
    );
  });

  it('rejects typos and negative prices, naming the field', () => {
    expect(() => mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'us-east-1': { spotDiscount: 0.5 } } }, 'p.json')).toThrow(InvalidPrices);
    expect(() => mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'us-east-1': { x86_64: { fargateGbHour: -1 } } } }, 'p.json')).toThrow(
      /regions.us-east-1.x86_64.fargateGbHour: expected a non-negative number/,
    );
  });
});

describe('Function: mergePriceBook (overrides and GitHub-hosted prices)', () => {
  it('lists every price a file overrode, for the report', () => {
    const book = mergePriceBook(DEFAULT_PRICE_BOOK, { regions: { 'us-east-1': { publicIpv4Hour: 0.004, arm64: { lambdaGbSecond: 0.00001 } } } }, 'p.json');
    expect(book.overrides).toEqual(['p.json: regions.us-east-1.publicIpv4Hour', 'p.json: regions.us-east-1.arm64.lambdaGbSecond']);
    expect(DEFAULT_PRICE_BOOK.overrides ?? []).toEqual([]);
  });

  it('replaces GitHub-hosted rates by SKU, only with a date and a source, and names an unknown runner', () => {
    const book = mergePriceBook(DEFAULT_PRICE_BOOK, { githubHosted: { asOf: '2027-01-01', source: 'GitHub pricing page', perMinuteUsd: { linux_4_core: 0.01 } } }, 'p.json');
    expect(book.githubHosted?.runners.find((r) => r.sku === 'linux_4_core')?.perMinuteUsd).toBe(0.01);
    expect(book.githubHosted).toMatchObject({ asOf: '2027-01-01', source: 'GitHub pricing page' });
    expect(book.overrides).toEqual(['p.json: githubHosted.perMinuteUsd.linux_4_core']);
    expect(() => mergePriceBook(DEFAULT_PRICE_BOOK, { githubHosted: { perMinuteUsd: { linux_4_core: 0.01 } } }, 'p.json')).toThrow(/"asOf" and "source" are required/);
    expect(() => mergePriceBook(DEFAULT_PRICE_BOOK, { githubHosted: { asOf: 'x', source: 'y', perMinuteUsd: { linux_3_core: 0.01 } } }, 'p.json')).toThrow(/githubHosted.perMinuteUsd.linux_3_core: unknown runner/);
  });
});
