/**
 * The masker also catches the forms tools print a secret in: base64 (wherever it sits in the
 * encoded text), percent-encoding, JSON escaping; and a multi-line secret line by line.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretMasker } from '../../functions/runner/secret-masker.js';

const SECRET = 'hunter2-very/secret+key';

function masked(secret: string, text: string): string {
  const masker = new SecretMasker([secret]);
  return Buffer.concat([masker.push(text), masker.flush()]).toString();
}

/** The secret's 4-byte pieces found in any visible base64 run of `text`, decoded at every offset. */
function recoverablePieces(secret: Buffer, text: string): string[] {
  const found: string[] = [];
  for (const run of text.split(/[^A-Za-z0-9+/]+/)) {
    for (let offset = 0; offset < 4; offset += 1) {
      const part = run.slice(offset);
      const decoded = Buffer.from(part.slice(0, part.length - (part.length % 4)), 'base64');
      for (let index = 0; index + 4 <= secret.length; index += 1) {
        const piece = secret.subarray(index, index + 4);
        if (decoded.includes(piece)) found.push(piece.toString());
      }
    }
  }
  return found;
}

describe('Class: SecretMasker, derived forms of a secret', () => {
  it('masks the base64 of a secret wherever it starts in the encoded bytes: no 4 bytes of it can be decoded', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 12 }), fc.uint8Array({ maxLength: 12 }), (before, after) => {
        // Act: as `printf 'user:%s' "$TOKEN" | base64` prints it, with any bytes around
        const encoded = Buffer.concat([before, Buffer.from(SECRET), after]).toString('base64');
        const text = masked(SECRET, `Authorization: Basic ${encoded}\n`);
        // Assess
        expect(text).toContain('***');
        expect(recoverablePieces(Buffer.from(SECRET), text)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('masks the percent-encoded and JSON-escaped forms', () => {
    // Prepare
    const multiLine = 'line-one-of-it\nline-two-"quoted"';
    // Act / Assess
    expect(masked(SECRET, `GET /?token=${encodeURIComponent(SECRET)}&x=1`)).toBe('GET /?token=***&x=1');
    expect(masked(multiLine, `{"key":${JSON.stringify(multiLine)}}`)).toBe('{"key":"***"}');
  });

  it('masks a multi-line secret printed whole, line by line, or with CRLF line ends', () => {
    // Prepare
    const key = '-----BEGIN KEY-----\nAAAABBBBCCCC\nDDDDEEEEFFFF\n-----END KEY-----';
    // Act / Assess
    expect(masked(key, `${key}\n`)).toBe('***\n');
    expect(masked(key, `${key.replaceAll('\n', '\r\n')}\r\n`)).not.toMatch(/AAAABBBBCCCC|DDDDEEEEFFFF/);
  });

  it('leaves short derived forms alone (a 3-character secret has no base64 form masked)', () => {
    // Act / Assess: "abc" is "YWJj" in base64, which ordinary output may hold
    expect(masked('abc', 'YWJj')).toBe('YWJj');
  });
});
