import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../functions/runner/secret-masker.js';

function maskInChunks(secrets: string[], text: string, cuts: number[]): string {
  const masker = new SecretMasker(secrets);
  const bytes = Buffer.from(text);
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  let out = '';
  let from = 0;
  for (const point of [...points, bytes.length]) {
    out += masker.push(bytes.subarray(from, point));
    from = point;
  }
  return out + masker.flush();
}

describe('Class: SecretMasker', () => {
  it('masks a secret split across two chunks', () => {
    // Act
    const masked = maskInChunks(['s3cr3t-value'], 'key=s3cr3t-value!', [7]);
    // Assess
    expect(masked).toBe('key=***!');
  });

  it('masks a secret whose UTF-8 bytes are split mid-character', () => {
    // Act
    const masked = maskInChunks(['pässwörd'], 'x pässwörd y', [4]);
    // Assess
    expect(masked).toBe('x *** y');
  });

  it('releases text that only looked like the start of a secret', () => {
    // Prepare
    const masker = new SecretMasker(['password1']);
    // Act
    const first = masker.push('my pass');
    const second = masker.push('port\n');
    // Assess
    expect(first).toBe('my ');
    expect(second).toBe('passport\n');
  });

  it('masks each line of a multi-line secret', () => {
    // Act
    const masked = maskInChunks(['-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----'], 'line: AAAABBBBCCCC\n', []);
    // Assess
    expect(masked).toBe('line: ***\n');
  });

  it('never lets a secret through, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 4, maxLength: 12 }).filter((s) => s.trim().length >= 4 && !s.includes('*')),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        fc.array(fc.nat(80), { maxLength: 6 }),
        (secret, before, after, cuts) => {
          const masked = maskInChunks([secret], `${before}${secret}${after}`, cuts);
          expect(masked).not.toContain(secret);
        },
      ),
    );
  });
});
