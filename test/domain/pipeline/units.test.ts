import { describe, expect, it } from 'vitest';
import { formatMiB, formatSeconds, parseDuration, parseSize } from '../../../functions/domain/pipeline/units.js';

describe('Function: parseSize', () => {
  it.each([
    ['512MiB', 512],
    ['2GiB', 2048],
    ['2GB', 2048],
    ['2048MB', 2048],
    ['2 GiB', 2048],
    ['1.5GiB', 1536],
    ['4gb', 4096],
    [1024, 1024],
    ['768', 768],
    [0.5, 1],
  ])('reads %j as %d MiB (MB and GB are the binary units AWS uses)', (input, mib) => {
    expect(parseSize(input)).toEqual({ ok: true, value: mib });
  });

  it.each([['2TB'], ['lots'], ['-1GiB'], [''], [-5], [Number.POSITIVE_INFINITY], [true], [null], [[1]]])(
    'rejects %j and says which forms are allowed',
    (input) => {
      // Act
      const result = parseSize(input);

      // Assess
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.message).toMatch(/^expected a size such as 512MiB, 2GiB, 2GB or 2048MB \(a plain number is MiB; MB and GB mean MiB and GiB/);
    },
  );
});

describe('Function: parseDuration', () => {
  it.each([
    ['90s', 90],
    ['10m', 600],
    ['2h', 7200],
    ['1h30m', 5400],
    ['1h0m5s', 3605],
    ['45', 45],
    [300, 300],
    [0, 0],
  ])('reads %j as %d seconds', (input, seconds) => {
    expect(parseDuration(input)).toEqual({ ok: true, value: seconds });
  });

  it.each([['ten minutes'], ['10 min'], ['1.5h'], ['30m1h'], ['h'], [''], [1.5], [-1], [false]])('rejects %j and says which forms are allowed', (input) => {
    // Act
    const result = parseDuration(input);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain('expected a duration such as 90s, 10m, 2h or 1h30m (a plain number is seconds)');
  });
});

describe('Function: formatMiB', () => {
  it('shows whole GiB, fractional GiB and MiB', () => {
    expect([formatMiB(122880), formatMiB(1536), formatMiB(512)]).toEqual(['120 GiB', '1.5 GiB', '512 MiB']);
  });
});

describe('Function: formatSeconds', () => {
  it('writes durations the way the pipeline file does', () => {
    expect([formatSeconds(5400), formatSeconds(900), formatSeconds(90), formatSeconds(0)]).toEqual(['1h30m', '15m', '1m30s', '0s']);
  });
});
