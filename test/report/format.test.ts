import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeRunner, formatDuration, formatUsd } from '../../functions/domain/report/format.js';
import { clipChars, clipWords, oneLine } from '../../functions/domain/report/text.js';

describe('Function: formatUsd', () => {
  it.each([
    [0.0031, '$0.0031'],
    [0, '$0.0000'],
    [0.99995, '$1.0000'],
    [1, '$1.00'],
    [1234.567, '$1234.57'],
    [-0.5, '-$0.5000'],
    [Number.NaN, '$?'],
    [Number.POSITIVE_INFINITY, '$?'],
  ])('formats %d as %s', (usd, text) => {
    expect(formatUsd(usd)).toBe(text);
  });
});

describe('Function: formatDuration', () => {
  it.each([
    [850, '850ms'],
    [14_999, '14s'],
    [134_000, '2m 14s'],
    [3_720_000, '1h 02m'],
    [273_600_000, '3d 04h'],
    [-1, '?'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('Function: describeRunner', () => {
  it('names the Lambda memory and the Fargate vCPU and GB', () => {
    expect(describeRunner({ runner: 'lambda', lambda: { memoryMB: 10240, ephemeralStorageMB: 512, architecture: 'arm64' } })).toBe('Lambda 10240 MB arm64');
    expect(describeRunner({ runner: 'fargate', fargate: { cpu: 16384, memory: 122880, ephemeralStorageGiB: 200, architecture: 'x86_64', spot: false } })).toBe('Fargate 16 vCPU 120 GB');
    expect(describeRunner({ runner: 'fargate' })).toBe('Fargate');
  });
});

describe('Function: clipWords', () => {
  it('cuts between words and marks the cut', () => {
    expect(clipWords('exit code 137 after 12 minutes', 16)).toBe('exit code 137…');
  });

  it('drops a first word that does not fit rather than cutting it', () => {
    expect(clipWords('12345678901234567890 rest', 10)).toBe('');
  });

  it('never exceeds the limit and only ever returns a prefix of whole words', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer().map(String), fc.string({ minLength: 1, maxLength: 12 }).map((s) => s.replace(/\s/g, 'x'))), { maxLength: 40 }), fc.integer({ min: 0, max: 200 }), (words, max) => {
        // Prepare
        const text = words.join(' ');

        // Act
        const clipped = clipWords(text, max);

        // Assess
        expect(clipped.length).toBeLessThanOrEqual(Math.max(max, 0));
        if (clipped !== text && clipped !== '') {
          const kept = clipped.slice(0, -1).split(' ');
          expect(kept).toEqual(words.slice(0, kept.length));
        }
      }),
    );
  });
});

describe('Function: clipChars', () => {
  it('never splits a surrogate pair', () => {
    const clipped = clipChars('😀'.repeat(10), 6);
    expect(clipped).toBe('😀😀…');
    expect(clipped.length).toBeLessThanOrEqual(6);
  });
});

describe('Function: oneLine', () => {
  it('turns newlines, tabs and control characters into single spaces', () => {
    expect(oneLine(' a\r\n\tb\u0000c ')).toBe('a b c');
  });
});
