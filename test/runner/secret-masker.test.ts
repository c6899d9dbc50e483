import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../functions/runner/secret-masker.js';

function maskInChunks(secrets: string[], text: string, cuts: number[]): string {
  const masker = new SecretMasker(secrets);
  const bytes = Buffer.from(text);
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    out.push(masker.push(bytes.subarray(from, point)));
    from = point;
  }
  return Buffer.concat([...out, masker.flush()]).toString('utf8');
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
    expect(first.toString()).toBe('my ');
    expect(second.toString()).toBe('passport\n');
  });

  it('masks each line of a multi-line secret', () => {
    // Act
    const masked = maskInChunks(['-----BEGIN KEY-----\nAAAABBBBCCCC\n-----END KEY-----'], 'line: AAAABBBBCCCC\n', []);
    // Assess
    expect(masked).toBe('line: ***\n');
  });

  it('passes a chunk with no secret in it through as the same bytes, never a copy', () => {
    // Prepare
    const masker = new SecretMasker(['s3cr3t-value']);
    const chunk = Buffer.from('plain build output\n'.repeat(4096));
    // Act
    const out = masker.push(chunk);
    // Assess: a view of the caller's chunk (the log path must not allocate per chunk).
    expect(out.buffer).toBe(chunk.buffer);
    expect(out.equals(chunk)).toBe(true);
  });

  it('keeps bytes that are not UTF-8 as they were printed', () => {
    // Prepare
    const masker = new SecretMasker(['s3cr3t-value']);
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x41, 0xc3]);
    // Act
    const out = Buffer.concat([masker.push(binary), masker.flush()]);
    // Assess
    expect(out.equals(binary)).toBe(true);
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

describe('Class: SecretMasker, one secret inside another', () => {
  // A database URL holds its password; both are secrets. Masking the password first (it was complete
  // in the first chunk) hid the URL's start from the held-back check, so the rest of the URL went out.
  const password = 'hunter22-pw';
  const url = `postgres://app:${password}@db.internal:5432/prod`;

  it('masks the longer secret whole when the chunk boundary falls just after the shorter one inside it', () => {
    // Prepare
    const text = `url=${url}\n`;
    // Act
    const masked = maskInChunks([password, url], text, [text.indexOf('@')]);
    // Assess
    expect(masked).toBe('url=***\n');
  });

  it('masks the same wherever the chunks are cut as in one chunk', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 12 }),
        fc.string({ maxLength: 12 }),
        fc.array(fc.nat(120), { maxLength: 8 }),
        (before, after, cuts) => {
          const text = `${before}${url}${after}${password}${url.slice(0, 20)}`;
          expect(maskInChunks([password, url], text, cuts)).toBe(maskInChunks([password, url], text, []));
        },
      ),
    );
  });

  it('holds back at most a few secrets\' length, even when the output is one secret repeated over and over', () => {
    // Prepare: every offset starts an occurrence of the secret, so occurrences overlap each other all the way back.
    const masker = new SecretMasker(['aaaaaaaa']);
    // Act
    const pushed = [1, 2, 3].map(() => masker.push('a'.repeat(1000)).toString());
    const rest = masker.flush().toString();
    // Assess: each push gives out the masks of nearly all it got (125 of 8 bytes), and all 375 are there in the end.
    for (const out of pushed) expect(out).toMatch(/^(\*\*\*){120,}$/);
    expect(pushed.join('') + rest).toBe('***'.repeat(375));
  });
});
