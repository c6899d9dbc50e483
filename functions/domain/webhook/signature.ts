import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * GitHub signs each delivery with `X-Hub-Signature-256: sha256=<hex>`, the
 * HMAC-SHA256 of the raw body under the webhook secret.
 * https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
 *
 * The HMAC is deterministic, so computing it here keeps the domain pure.
 */

const PREFIX = 'sha256=';
/** `sha256=` plus 64 lowercase or uppercase hex digits, nothing else. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-fA-F]{64}$/;

/** The header value GitHub would send for this body. */
export function signBody(secret: string, body: Buffer | string): string {
  return PREFIX + createHmac('sha256', secret).update(body).digest('hex');
}

/**
 * True when `header` is a well-formed signature of the raw `body` under
 * `secret`. The digests are compared with `timingSafeEqual`, so the time taken
 * tells an attacker nothing about how many leading bytes matched; the format
 * check comes first because `timingSafeEqual` needs equal lengths.
 */
export function verifySignature(secret: string, body: Buffer | string, header: string | undefined): boolean {
  if (header === undefined || !SIGNATURE_FORMAT.test(header)) return false;
  // An empty secret would make every forger's HMAC trivially right.
  if (secret.length === 0) return false;
  const received = Buffer.from(header.slice(PREFIX.length), 'hex');
  const expected = createHmac('sha256', secret).update(body).digest();
  return received.length === expected.length && timingSafeEqual(received, expected);
}
