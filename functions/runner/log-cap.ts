/**
 * A stage's log is capped: a command that prints 1 GB must not store a 1 GB log
 * (S3 and, on AWS, CloudWatch Logs ingestion at $0.50 per GB), nor make the
 * dashboard read one. The first half of the cap is written as it comes (live);
 * after that, only the most recent output is kept, in memory, up to the other
 * half; at the end a marker line saying how much was left out, then that tail,
 * are written. So the log keeps how a stage started and how it ended.
 */
import { Transform } from 'node:stream';

/** Default cap on one stage's log: 64 MiB. */
export const DEFAULT_LOG_CAP_BYTES = 64 * 1024 * 1024;
/** The smallest cap that still leaves a useful head and tail. */
export const MIN_LOG_CAP_BYTES = 64 * 1024;

export class HeadTailCap {
  private readonly headLimit: number;
  private readonly tailLimit: number;
  private headWritten = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  /** Bytes that were neither in the head nor are still in the tail. */
  private dropped = 0;

  constructor(readonly capBytes: number = DEFAULT_LOG_CAP_BYTES) {
    if (!Number.isInteger(capBytes) || capBytes < MIN_LOG_CAP_BYTES) {
      throw new RangeError(`the log cap must be at least ${MIN_LOG_CAP_BYTES} bytes, got ${capBytes}`);
    }
    this.headLimit = Math.floor(capBytes / 2);
    this.tailLimit = capBytes - this.headLimit;
  }

  /** True once output went past the head: what follows is held for the tail. */
  get overflowing(): boolean {
    return this.headWritten >= this.headLimit;
  }

  /**
   * Takes a chunk; returns the part to write now (the rest of the head), possibly
   * empty. `justOverflowed` is true for the chunk that first went past the head.
   */
  take(chunk: Buffer): { now: Buffer; justOverflowed: boolean } {
    const wasOverflowing = this.overflowing;
    const room = this.headLimit - this.headWritten;
    const now = room > 0 ? chunk.subarray(0, room) : chunk.subarray(0, 0);
    this.headWritten += now.length;
    const rest = chunk.subarray(now.length);
    if (rest.length > 0) this.keepInTail(rest);
    return { now, justOverflowed: !wasOverflowing && this.overflowing && rest.length > 0 };
  }

  /** What to write at the end: the marker and the tail, or nothing when output fit the head. */
  finish(): Buffer {
    if (this.tailBytes === 0 && this.dropped === 0) return Buffer.alloc(0);
    const marker = this.dropped > 0
      ? `\n[buildfarm: ${this.dropped} bytes of output left out here: the stage log is capped at ${formatMiB(this.capBytes)} (its first and last ${formatMiB(this.headLimit)})]\n`
      : '';
    const tail = Buffer.concat(this.tail);
    this.tail = [];
    this.tailBytes = 0;
    return Buffer.concat([Buffer.from(marker), tail]);
  }

  /** Bytes left out of the stored log so far. */
  get droppedBytes(): number {
    return this.dropped;
  }

  private keepInTail(bytes: Buffer): void {
    // Copy: the caller's buffer may be reused, and a small slice must not pin a big chunk.
    this.tail.push(Buffer.from(bytes));
    this.tailBytes += bytes.length;
    while (this.tailBytes > this.tailLimit) {
      const excess = this.tailBytes - this.tailLimit;
      const first = this.tail[0];
      if (first.length <= excess) {
        this.tail.shift();
        this.tailBytes -= first.length;
        this.dropped += first.length;
      } else {
        this.tail[0] = first.subarray(excess);
        this.tailBytes -= excess;
        this.dropped += excess;
      }
    }
  }
}

function formatMiB(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  return Number.isInteger(mib) ? `${mib} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** The same cap as a stream stage: for a log file written by someone else (the Fargate build container). */
export function capStream(capBytes: number = DEFAULT_LOG_CAP_BYTES): Transform {
  const cap = new HeadTailCap(capBytes);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const { now } = cap.take(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
      callback(null, now.length > 0 ? now : undefined);
    },
    flush(callback) {
      const end = cap.finish();
      callback(null, end.length > 0 ? end : undefined);
    },
  });
}
