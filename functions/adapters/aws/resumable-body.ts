/**
 * One continuous stream of an object's bytes, whatever happens to the connection under it.
 *
 * The SDK retries a GetObject only until its response headers arrive; a body cut after that
 * (S3 resets connections now and then, a NAT drops one, a socket goes silent) surfaces in the
 * reader, mid-extraction. S3 asks clients to retry such failures
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/ErrorBestPractices.html), and a ranged
 * GET from the first byte not yet received continues the same object
 * (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/use-byte-range-fetches.html).
 * `from` must pin that GET to the first answer's version (s3-resumable-get.ts: `If-Match`), so
 * what the consumer sees is the object's bytes in order, once each: its own integrity check (the
 * archive's sha256 and size, archive/unpack.ts) still covers the whole of it.
 */
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { ObjectReadInterrupted } from '../object-read-errors.js';

/** Resumes of one body before the cut is the caller's: a flaky moment, not a broken network. */
export const MAX_BODY_RESUMES = 3;

/** First wait before a resume; it doubles with each one, with jitter (100-200, 200-400, 400-800 ms). */
export const RESUME_BACKOFF_MS = 100;

export interface ResumableSource {
  /** Names the object in errors (the S3 key). */
  name: string;
  /** The first answer's body, from byte 0. */
  first: Readable;
  /** The object's size in bytes, when the first answer said (S3 always does). */
  length?: number;
  /**
   * The object's bytes from `offset` to its end, of the same version as `first`; rejects with
   * ObjectChangedWhileRead when the object changed. Undefined: this body cannot be resumed.
   */
  from?: (offset: number) => Promise<Readable>;
}

export interface ResumeTuning {
  maxResumes?: number;
  backoffMs?: number;
}

/**
 * The connection went away or went silent under a body: Node's "aborted" (ECONNRESET), EPIPE,
 * ETIMEDOUT, the SDK's socket inactivity timeout (name TimeoutError), and the SDK checksum
 * wrapper's own words for a source that closed early (@smithy ChecksumStream).
 */
export function isConnectionCut(error: unknown): boolean {
  const { code, name, message } = (error ?? {}) as { code?: unknown; name?: unknown; message?: unknown };
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ETIMEDOUT') return true;
  if (name === 'TimeoutError' || name === 'BodyEndedEarly') return true;
  return message === 'aborted' || (typeof message === 'string' && message.startsWith('Connection lost or stream closed before all data'));
}

/** A body that ended cleanly but short of the length its answer declared. */
class BodyEndedEarly extends Error {
  override readonly name = 'BodyEndedEarly';
}

/** `source`'s bytes as one stream: a cut body goes on from the byte it stopped at, up to `maxResumes` times. */
export function resumableBody(source: ResumableSource, tuning: ResumeTuning = {}): Readable {
  const maxResumes = source.from === undefined ? 0 : (tuning.maxResumes ?? MAX_BODY_RESUMES);
  const backoffMs = tuning.backoffMs ?? RESUME_BACKOFF_MS;

  async function* bytes(): AsyncGenerator<Buffer> {
    // Undefined between a cut and the resumed answer: a resume whose request fails counts as a cut too.
    let body: Readable | undefined = source.first;
    let received = 0;
    let resumes = 0;
    try {
      for (;;) {
        try {
          body ??= await source.from!(received);
          for await (const chunk of body) {
            const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
            received += buffer.length;
            yield buffer;
          }
          if (source.length === undefined || received >= source.length) return;
          throw new BodyEndedEarly(`the answer ended after ${received} of ${source.length} bytes`);
        } catch (error) {
          body?.destroy();
          body = undefined;
          if (!isConnectionCut(error)) throw error;
          if (resumes >= maxResumes) throw interrupted(source, received, resumes, error);
          resumes += 1;
          await sleep(backoffMs * 2 ** (resumes - 1) * (1 + Math.random()));
        }
      }
    } finally {
      // The consumer stopped early (an unsafe entry, a cap) or an error ends the read: free the connection.
      body?.destroy();
    }
  }

  return Readable.from(bytes(), { objectMode: false });
}

function interrupted(source: ResumableSource, received: number, resumes: number, error: unknown): ObjectReadInterrupted {
  const total = source.length === undefined ? '' : ` of ${source.length}`;
  const tries = source.from === undefined ? 'it cannot be resumed' : `the read was cut ${resumes + 1} times (${resumes} resumes)`;
  return new ObjectReadInterrupted(`reading ${source.name} failed after ${received}${total} bytes: ${tries}; last: ${(error as Error).message}`, { cause: error });
}
