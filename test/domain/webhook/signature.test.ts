import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signBody, verifySignature } from '../../../functions/domain/webhook/signature.js';

// GitHub's published test vector:
// https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';
const EXPECTED = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';

describe('Function: signBody', () => {
  it('matches GitHub\'s test vector', () => {
    // Act
    const signature = signBody(SECRET, BODY);

    // Assess
    expect(signature).toBe(EXPECTED);
  });

  it('signs the same bytes the same way whether given a string or a Buffer', () => {
    // Assess
    expect(signBody(SECRET, Buffer.from(BODY))).toBe(EXPECTED);
  });
});

describe('Function: verifySignature', () => {
  it('accepts GitHub\'s test vector', () => {
    // Act & Assess
    expect(verifySignature(SECRET, BODY, EXPECTED)).toBe(true);
    expect(verifySignature(SECRET, Buffer.from(BODY), EXPECTED)).toBe(true);
  });

  it('accepts the digest in upper-case hex', () => {
    // Assess
    expect(verifySignature(SECRET, BODY, `sha256=${EXPECTED.slice(7).toUpperCase()}`)).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['without the sha256= prefix', EXPECTED.slice(7)],
    ['a SHA-1 signature', 'sha1=0123456789abcdef0123456789abcdef01234567'],
    ['one digit short', EXPECTED.slice(0, -1)],
    ['one digit long', `${EXPECTED}0`],
    ['not hex', `sha256=${'z'.repeat(64)}`],
    ['with trailing whitespace', `${EXPECTED} `],
    ['one digit wrong', `${EXPECTED.slice(0, -1)}f`],
  ])('rejects a signature that is %s', (_label, header) => {
    // Assess
    expect(verifySignature(SECRET, BODY, header)).toBe(false);
  });

  it('rejects a body changed by one byte', () => {
    // Assess
    expect(verifySignature(SECRET, 'Hello, World?', EXPECTED)).toBe(false);
  });

  it('rejects the right digest under another secret', () => {
    // Assess
    expect(verifySignature('another secret', BODY, EXPECTED)).toBe(false);
  });

  it('never accepts anything under an empty secret', () => {
    // Prepare: a forger who guesses the secret is empty can sign anything.
    const forged = signBody('', BODY);

    // Assess
    expect(verifySignature('', BODY, forged)).toBe(false);
  });

  it('accepts exactly its own signatures (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.uint8Array(), fc.uint8Array(), (secret, body, other) => {
        const signature = signBody(secret, Buffer.from(body));
        expect(verifySignature(secret, Buffer.from(body), signature)).toBe(true);
        if (!Buffer.from(body).equals(Buffer.from(other))) {
          expect(verifySignature(secret, Buffer.from(other), signature)).toBe(false);
        }
      }),
    );
  });
});
