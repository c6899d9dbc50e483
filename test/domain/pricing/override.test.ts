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
