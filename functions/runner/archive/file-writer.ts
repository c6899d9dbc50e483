/**
 * Writes an extraction's files and directories on a worker thread, in the order they are
 * queued, while the main thread goes on downloading, hashing and parsing the archive.
 *
 * Why: unpacking a node_modules-sized archive is mostly the kernel creating inodes (open
 * with O_CREAT, mkdir), each a blocking system call of tens to hundreds of microseconds
 * here. Done on the main thread, those calls and the parsing take turns; on a worker they
 * overlap, so an unpack costs about the larger of the two rather than their sum (issue 12,
 * docs/performance.md). The operations themselves, and every rule they keep, are in
 * write-ops.ts; links are not written here (safe-extract.ts makes them after `finish`).
 *
 * Small extractions (a few entries) never pay for a worker's start: the first operations
 * run inline, on the calling thread, and the worker starts only past INLINE_OPS. Where a
 * worker cannot start, everything runs inline. Memory: at most MAX_IN_FLIGHT_BYTES of file
 * content is queued to the worker at once (`ready()` waits when more is).
 */
import { Worker } from 'node:worker_threads';
import { inlineApplier, WRITER_WORKER_SOURCE, type ApplyBatch, type BatchOutcome, type WriteOp } from './write-ops.js';

/** Operations run inline before a worker starts (its start costs ~30 ms of CPU: worth it for many files only). */
export const INLINE_OPS = 200;
const BATCH_BYTES = 512 * 1024;
const BATCH_OPS = 128;
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024;

export class FileWriter {
  private ops: WriteOp[] = [];
  private chunks: Buffer[] = [];
  private batchBytes = 0;
  private readonly sentBytes: number[] = [];
  private inFlightBytes = 0;
  private opsSeen = 0;
  private worker: Worker | undefined;
  private workerUnavailable = false;
  private inline: ApplyBatch | undefined;
  private failure: Error | undefined;
  private flushScheduled = false;
  private waiters: (() => void)[] = [];

  /** `onCreated` hears of each directory the writer created (the first one made by each mkdir), root-relative or not as given. */
  constructor(private readonly onCreated: (path: string) => void, private readonly options: { inlineOps?: number } = {}) {}

  mkdir(path: string): void {
    this.queue(['d', path]);
  }

  /** A whole file from its chunks (one copy into the batch; no concatenation first). */
  writeFile(path: string, mode: number, chunks: readonly Buffer[]): void {
    const offset = this.batchBytes;
    let length = 0;
    for (const chunk of chunks) length += chunk.length;
    this.queue(['f', path, mode, offset, length], chunks);
  }

  /** A large file, streamed: beginFile, append for each chunk (awaiting `ready()`), endFile. */
  beginFile(path: string, mode: number): void {
    this.queue(['b', path, mode]);
  }

  append(chunk: Buffer): void {
    this.queue(['a', this.batchBytes, chunk.length], [chunk]);
  }

  endFile(): void {
    this.queue(['e']);
  }

  /**
   * Undefined when more may be queued at once; otherwise a promise that settles when it may
   * (or rejects with the writer's failure). The failure of an earlier operation surfaces here.
   */
  ready(): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    if (this.inFlightBytes + this.batchBytes <= MAX_IN_FLIGHT_BYTES) return undefined;
    return this.drain();
  }

  private async drain(): Promise<void> {
    this.flush();
    while (this.inFlightBytes > MAX_IN_FLIGHT_BYTES / 2 && this.sentBytes.length > 0 && !this.failure) await this.nextAck();
    if (this.failure) throw this.failure;
  }

  /** Everything queued is written (or the first failure is thrown); the worker stops. */
  async finish(): Promise<void> {
    this.flush();
    while (this.sentBytes.length > 0 && !this.failure) await this.nextAck();
    this.stop();
    if (this.failure) throw this.failure;
  }

  /** The extraction failed elsewhere: nothing more is sent; what was sent finishes (so its directories are reported), then the worker stops. */
  async abort(): Promise<void> {
    this.ops = [];
    this.chunks = [];
    this.batchBytes = 0;
    while (this.sentBytes.length > 0 && this.worker !== undefined) await this.nextAck();
    this.stop();
  }

  private queue(op: WriteOp, chunks: readonly Buffer[] = []): void {
    if (this.failure) return;
    this.opsSeen += 1;
    if (this.worker === undefined && this.opsSeen <= (this.options.inlineOps ?? INLINE_OPS)) {
      this.runInline(op, chunks);
      return;
    }
    this.startWorker();
    if (this.worker === undefined) {
      this.runInline(op, chunks);
      return;
    }
    this.ops.push(op);
    for (const chunk of chunks) {
      this.chunks.push(chunk);
      this.batchBytes += chunk.length;
    }
    if (this.batchBytes >= BATCH_BYTES || this.ops.length >= BATCH_OPS) this.flush();
    else if (!this.flushScheduled) {
      // The worker must not idle while the main thread waits for bytes: a short batch goes when the loop turns.
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** Inline, an operation's offsets are into its own bytes: rebase them to zero. */
  private runInline(op: WriteOp, chunks: readonly Buffer[]): void {
    this.inline ??= inlineApplier();
    const data = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
    const rebased: WriteOp = op[0] === 'f' ? ['f', op[1], op[2], 0, op[4]] : op[0] === 'a' ? ['a', 0, op[2]] : op;
    this.settle(this.inline([rebased], data));
  }

  private startWorker(): void {
    if (this.worker !== undefined || this.workerUnavailable) return;
    try {
      const worker = new Worker(WRITER_WORKER_SOURCE, { eval: true });
      // Never keeps the process alive on its own (an extraction abandoned midway).
      worker.unref();
      worker.on('message', (outcome: BatchOutcome) => {
        this.inFlightBytes -= this.sentBytes.shift() ?? 0;
        this.settle(outcome);
      });
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', () => {
        if (this.sentBytes.length > 0) this.fail(new Error('the file-writing worker stopped before it finished'));
      });
      this.worker = worker;
    } catch {
      this.workerUnavailable = true;
    }
  }

  private flush(): void {
    if (this.ops.length === 0 || this.worker === undefined) return;
    // One copy of the batch's bytes, whose memory then moves to the worker (transferred, not cloned).
    const data = Buffer.allocUnsafeSlow(this.batchBytes);
    let offset = 0;
    for (const chunk of this.chunks) offset += chunk.copy(data, offset);
    this.worker.postMessage({ ops: this.ops, data: data.buffer }, [data.buffer as ArrayBuffer]);
    this.sentBytes.push(this.batchBytes);
    this.inFlightBytes += this.batchBytes;
    this.ops = [];
    this.chunks = [];
    this.batchBytes = 0;
  }

  private settle(outcome: BatchOutcome): void {
    for (const path of outcome.created) this.onCreated(path);
    if (outcome.error) {
      const { message, code, path } = outcome.error;
      this.fail(Object.assign(new Error(message), code === undefined ? {} : { code }, path === undefined ? {} : { path }));
    }
    this.wake();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.sentBytes.length = 0;
    this.wake();
  }

  private nextAck(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private stop(): void {
    void this.worker?.terminate();
    this.worker = undefined;
    // Whatever comes after the end (nothing should) runs inline, never on a worker no one will wait for.
    this.workerUnavailable = true;
  }
}
