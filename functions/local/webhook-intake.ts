/**
 * How the local farm reads a webhook body without letting strangers spend its memory.
 *
 * GitHub sends up to 25 MB per delivery, so a farm that buffers every body whole
 * before checking its signature can be made to hold gigabytes by anyone who can
 * reach the port (150 unsigned 25 MiB bodies took the farm to 3.6 GB RSS). Here:
 * - a delivery without a well-formed `X-Hub-Signature-256` is refused (401) before
 *   a single body byte is read;
 * - a `Content-Length` above the limit is refused (413) before reading;
 * - every body chunk is first taken from one farm-wide budget of in-flight bytes;
 *   past the ceiling the request gets 503 with `Retry-After` (GitHub shows it as
 *   a failed delivery that can be redelivered) and its bytes are given back;
 * - the HMAC is computed while the body streams in, so a forged body is dropped
 *   the moment its last byte arrives, without a second pass.
 * https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

/** `sha256=` and 64 hex digits: the only signature shape GitHub sends. */
const SIGNATURE_FORMAT = /^sha256=[0-9a-fA-F]{64}$/;

/** Default ceiling on webhook body bytes held at once, across all requests: 64 MiB. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;
/** Seconds a client is told to wait after a 503 (the `Retry-After` header). */
export const BUSY_RETRY_AFTER_SECONDS = 5;

/** One budget of body bytes shared by every request of a server. */
export class InFlightBudget {
  private used = 0;
  /** The most bytes ever held at once (for tests and the benchmark). */
  highWater = 0;

  constructor(readonly limitBytes: number) {
    if (!Number.isFinite(limitBytes) || limitBytes < 1) throw new RangeError(`in-flight body limit must be a positive byte count, got ${limitBytes}`);
  }

  /** Takes `bytes` when they fit under the ceiling; false (nothing taken) when they don't. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.limitBytes) return false;
    this.used += bytes;
    this.highWater = Math.max(this.highWater, this.used);
    return true;
  }

  give(bytes: number): void {
    this.used = Math.max(0, this.used - bytes);
  }

  get inFlightBytes(): number {
    return this.used;
  }
}

export interface IntakeOptions {
  /** The webhook secret: the signature is checked while the body streams in. */
  secret: string;
  budget: InFlightBudget;
  /** Largest body accepted (GitHub's 25 MB cap). */
  maxBodyBytes: number;
}

export type IntakeResult =
  | {
      kind: 'accepted';
      body: Buffer;
      /** Gives the body's bytes back to the budget: call once the delivery is handled. */
      release: () => void;
    }
  | { kind: 'refused'; statusCode: 401 | 413 | 503; error: string; headers: Record<string, string> };

/** Reads a signed webhook body within the budget, or says why not (see the file comment). */
export async function readSignedBody(request: IncomingMessage, options: IntakeOptions): Promise<IntakeResult> {
  const signature = request.headers['x-hub-signature-256'];
  if (typeof signature !== 'string' || !SIGNATURE_FORMAT.test(signature) || options.secret.length === 0) {
    return refuse(401, signature === undefined ? 'X-Hub-Signature-256 is missing' : 'X-Hub-Signature-256 is malformed');
  }
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > options.maxBodyBytes) return refuse(413, `the body is larger than ${options.maxBodyBytes} bytes`);

  const hmac = createHmac('sha256', options.secret);
  const chunks: Buffer[] = [];
  let taken = 0;
  const giveBack = () => {
    options.budget.give(taken);
    taken = 0;
  };
  try {
    for await (const chunk of request as AsyncIterable<Buffer>) {
      if (taken + chunk.length > options.maxBodyBytes) {
        giveBack();
        return refuse(413, `the body is larger than ${options.maxBodyBytes} bytes`);
      }
      if (!options.budget.tryTake(chunk.length)) {
        giveBack();
        return refuse(503, 'too many webhook bodies in flight; retry later', { 'retry-after': String(BUSY_RETRY_AFTER_SECONDS) });
      }
      taken += chunk.length;
      hmac.update(chunk);
      chunks.push(chunk);
    }
  } catch (error) {
    giveBack();
    throw error;
  }
  const expected = hmac.digest();
  const received = Buffer.from(signature.slice('sha256='.length), 'hex');
  if (!timingSafeEqual(received, expected)) {
    giveBack();
    return refuse(401, 'X-Hub-Signature-256 does not match');
  }
  let released = false;
  return {
    kind: 'accepted',
    body: chunks.length === 1 ? chunks[0] : Buffer.concat(chunks),
    release: () => {
      if (released) return;
      released = true;
      giveBack();
    },
  };
}

function refuse(statusCode: 401 | 413 | 503, error: string, headers: Record<string, string> = {}): IntakeResult {
  // The unread rest of the body must not be parsed as a next request on this connection.
  return { kind: 'refused', statusCode, error, headers: { connection: 'close', ...headers } };
}
