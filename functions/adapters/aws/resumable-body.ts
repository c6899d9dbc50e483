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

/** A body that ended (or closed) cleanly but short of the length its answer declared. */
class BodyEndedEarly extends Error {
  override readonly name = 'BodyEndedEarly';
}

/** `source`'s bytes as one stream: a cut body goes on from the byte it stopped at, up to `maxResumes` times. */
export function resumableBody(source: ResumableSource, tuning: ResumeTuning = {}): Readable {
  return new ResumableBody(source, tuning);
}

/**
 * A Readable over the current answer's body, swapped for a resumed one after a cut. Not an async
 * generator: destroying the stream must release the connection at once, even while the body is
 * silent (a generator awaiting its next chunk cannot be stopped until one arrives).
 */
class ResumableBody extends Readable {
  private body: Readable | undefined;
  private received = 0;
  private resumes = 0;
  private waiting: NodeJS.Timeout | undefined;
  private readonly maxResumes: number;
  private readonly backoffMs: number;

  constructor(
    private readonly source: ResumableSource,
    tuning: ResumeTuning,
  ) {
    super();
    this.maxResumes = source.from === undefined ? 0 : (tuning.maxResumes ?? MAX_BODY_RESUMES);
    this.backoffMs = tuning.backoffMs ?? RESUME_BACKOFF_MS;
    this.attach(source.first);
  }

  override _read(): void {
    this.body?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.waiting);
    this.release();
    callback(error);
  }

  private attach(body: Readable): void {
    this.body = body;
    const current = () => this.body === body;
    body.on('data', (chunk: Buffer | Uint8Array) => {
      if (!current()) return;
      this.received += chunk.length;
      if (!this.push(chunk)) body.pause();
    });
    body.once('end', () => {
      if (!current()) return;
      const { length } = this.source;
      if (length === undefined || this.received >= length) {
        this.body = undefined;
        this.push(null);
      } else this.cut(new BodyEndedEarly(`the answer ended after ${this.received} of ${length} bytes`));
    });
    body.on('error', (error) => current() && this.cut(error));
    body.once('close', () => current() && !body.readableEnded && this.cut(new BodyEndedEarly(`the connection closed after ${this.received} bytes`)));
  }

  /** Lets go of the current body; a late error from it has a listener and goes nowhere. */
  private release(): void {
    const body = this.body;
    this.body = undefined;
    if (body === undefined) return;
    body.on('error', () => undefined);
    body.destroy();
  }

  private cut(error: unknown): void {
    this.release();
    if (this.destroyed) return;
    if (!isConnectionCut(error)) return void this.destroy(error as Error);
    if (this.resumes >= this.maxResumes) return void this.destroy(interrupted(this.source, this.received, this.resumes, error));
    this.resumes += 1;
    const delay = this.backoffMs * 2 ** (this.resumes - 1) * (1 + Math.random());
    this.waiting = setTimeout(() => void this.fetchRest(), delay);
  }

  /** Asks for the rest; a resume whose request fails counts as a cut too. */
  private async fetchRest(): Promise<void> {
    try {
      const next = await this.source.from!(this.received);
      if (this.destroyed) return void next.destroy();
      this.attach(next);
    } catch (error) {
      if (!this.destroyed) this.cut(error);
    }
  }
}

function interrupted(source: ResumableSource, received: number, resumes: number, error: unknown): ObjectReadInterrupted {
  const total = source.length === undefined ? '' : ` of ${source.length}`;
  const tries = source.from === undefined ? 'it cannot be resumed' : `the read was cut ${resumes + 1} times (${resumes} resumes)`;
  return new ObjectReadInterrupted(`reading ${source.name} failed after ${received}${total} bytes: ${tries}; last: ${(error as Error).message}`, { cause: error });
}
