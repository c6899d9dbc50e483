/**
 * A stage's log is capped: a command that prints 1 GB must not store a 1 GB log
 * (S3 and, on AWS, CloudWatch Logs ingestion at $0.50 per GB), nor make the
 * dashboard read one. The first half of the cap is written as it comes (live);
 * after that, only the most recent output is kept, in memory, up to the other
 * half; at the end a marker line saying how much was left out, then that tail,
 * are written. So the log keeps how a stage started and how it ended.
 *
 * The tail is one ring buffer of half the cap, allocated when output first goes
 * past the head and written over in place: past the head, a chunk costs a copy
 * into the ring and no allocation, and the end is handed out as slices of the
 * ring, never joined into one more copy (issue 11: a stage printing 1 GiB made
 * the build process allocate a copy of every chunk, then two of the whole tail).
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
  /** The last `tailLimit` bytes, oldest at `tailStart`; allocated on the first overflow. */
  private ring: Buffer | undefined;
  private tailStart = 0;
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
   * Takes a chunk; returns the part to write now (the rest of the head, a slice of
   * `chunk`), possibly empty. `justOverflowed` is true for the chunk that first went past the head.
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

  /**
   * What to write at the end, in order: the marker and the tail (slices of the ring), or
   * nothing when output fit the head. The cap lets go of the ring: the slices are the caller's.
   */
  finish(): Buffer[] {
    if (this.tailBytes === 0 && this.dropped === 0) return [];
    const parts: Buffer[] = [];
    if (this.dropped > 0) {
      parts.push(Buffer.from(`\n[buildfarm: ${this.dropped} bytes of output left out here: the stage log is capped at ${formatMiB(this.capBytes)} (its first and last ${formatMiB(this.headLimit)})]\n`));
    }
    const ring = this.ring;
    if (ring !== undefined && this.tailBytes > 0) {
      const firstEnd = Math.min(this.tailLimit, this.tailStart + this.tailBytes);
      parts.push(ring.subarray(this.tailStart, firstEnd));
      const wrapped = this.tailBytes - (firstEnd - this.tailStart);
      if (wrapped > 0) parts.push(ring.subarray(0, wrapped));
    }
    this.ring = undefined;
    this.tailStart = 0;
    this.tailBytes = 0;
    return parts;
  }

  /** Bytes left out of the stored log so far. */
  get droppedBytes(): number {
    return this.dropped;
  }

  /** Bytes held for the tail now (at most half the cap). */
  get heldBytes(): number {
    return this.tailBytes;
  }

  private keepInTail(bytes: Buffer): void {
    // Uninitialised is safe: only bytes written since are ever handed out. Pages never written cost no memory.
    const ring = (this.ring ??= Buffer.allocUnsafeSlow(this.tailLimit));
    const limit = this.tailLimit;
    // Only the last `limit` bytes of a chunk can survive it.
    const kept = bytes.length > limit ? bytes.subarray(bytes.length - limit) : bytes;
    const overwritten = Math.max(0, this.tailBytes + kept.length - limit);
    this.dropped += bytes.length - kept.length + overwritten;
    let at = (this.tailStart + this.tailBytes) % limit;
    const first = Math.min(kept.length, limit - at);
    kept.copy(ring, at, 0, first);
    if (first < kept.length) kept.copy(ring, 0, first);
    at = (at + kept.length) % limit;
    this.tailBytes = Math.min(limit, this.tailBytes + kept.length);
    this.tailStart = (at - this.tailBytes + limit) % limit;
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
      for (const part of cap.finish()) this.push(part);
      callback();
    },
  });
}
