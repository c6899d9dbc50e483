/**
 * A pass-through stream that measures an archive on its way: sha256 and byte count.
 *
 * The hashing runs on a worker thread, so it overlaps the upload instead of taking the
 * main thread's time between network writes (issue 12: the inline sha256 was the gap to
 * `aws s3 cp` on 1 GiB). Bytes go over in 1 MiB batches whose memory is transferred, not
 * copied twice; chunks pass on downstream at once. The worker is an inline script (no
 * separate file to bundle into the Lambda and Fargate helper bundles). Where a worker
 * cannot start, the hash runs inline, as before.
 */
import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { Worker } from 'node:worker_threads';

export interface Digest {
  sha256: string;
  bytes: number;
}

const BATCH_BYTES = 1024 * 1024;
/**
 * Batches that exist at once. The worker hands each batch back once hashed, and the stream
 * waits for one when all are out: memory stays at BATCHES x BATCH_BYTES however far the hash
 * falls behind, and the copies land in memory already mapped (fresh 1 MiB buffers per batch
 * cost page faults and garbage collection: issue 12's profile).
 */
export const DIGEST_BATCHES = 8;

/** Archives from this size on are hashed off the main thread; smaller ones inline (a worker's start costs more). */
export const OFF_THREAD_FROM_BYTES = 16 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'digest') parentPort.postMessage(hash.digest('hex'));
  else {
    hash.update(new Uint8Array(message));
    parentPort.postMessage(message, [message]);
  }
});
`;

export class ArchiveDigest extends Transform {
  private bytes = 0;
  private readonly settled: Promise<Digest>;
  private settle!: (digest: Digest) => void;
  private fail!: (error: Error) => void;
  private readonly hasher: WorkerHasher | InlineHasher;

  /** `offThread`: hash on a worker (worth its ~30 ms start for large archives only; see OFF_THREAD_FROM_BYTES). */
  constructor(options: { offThread?: boolean } = {}) {
    super({ highWaterMark: 1024 * 1024 });
    this.settled = new Promise((resolve, reject) => {
      this.settle = resolve;
      this.fail = reject;
    });
    this.settled.catch(() => undefined);
    this.hasher = options.offThread ? (WorkerHasher.start() ?? new InlineHasher()) : new InlineHasher();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    this.hasher.update(chunk).then(() => callback(null, chunk), callback);
  }

  override _flush(callback: TransformCallback): void {
    this.hasher.digest().then(
      (sha256) => {
        this.settle({ sha256, bytes: this.bytes });
        callback();
      },
      (error: Error) => {
        this.fail(error);
        callback(error);
      },
    );
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.hasher.close();
    if (error) this.fail(error);
    callback(error);
  }

  /** The digest of everything that passed; resolves when the stream has been flushed. */
  result(): Promise<Digest> {
    return this.settled;
  }
}

class InlineHasher {
  private readonly hash: Hash = createHash('sha256');
  update(chunk: Buffer): Promise<void> {
    this.hash.update(chunk);
    return Promise.resolve();
  }
  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }
  close(): void {}
}

class WorkerHasher {
  private batch: Buffer | undefined;
  private filled = 0;
  private readonly free: ArrayBuffer[] = [];
  private allocated = 0;
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    // The worker must never keep the process alive on its own (a stream abandoned midway).
    worker.unref();
    worker.on('error', (error) => {
      this.failure = error;
      this.wake();
    });
    worker.on('message', (message: unknown) => {
      if (!(message instanceof ArrayBuffer)) return;
      this.free.push(message);
      this.wake();
    });
  }

  static start(): WorkerHasher | undefined {
    try {
      return new WorkerHasher(new Worker(WORKER_SOURCE, { eval: true }));
    } catch {
      return undefined;
    }
  }

  async update(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      this.batch ??= await this.takeBatch();
      const taken = chunk.copy(this.batch, this.filled, offset);
      this.filled += taken;
      offset += taken;
      if (this.filled === BATCH_BYTES) this.send();
    }
  }

  digest(): Promise<string> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.filled > 0) this.send();
    return new Promise((resolve, reject) => {
      const onMessage = (message: unknown) => {
        if (typeof message !== 'string') return;
        this.worker.off('message', onMessage);
        resolve(message);
        this.close();
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(this.failure ?? new Error('the hashing worker stopped before the digest')));
      this.worker.postMessage('digest');
    });
  }

  close(): void {
    // Nothing waits for a batch after this (a destroyed stream): a waiter gets the error at once.
    this.failure ??= new Error('the archive digest was closed');
    this.wake();
    void this.worker.terminate();
  }

  /** A batch handed back by the worker, a new one while fewer than DIGEST_BATCHES exist, else the next one back. */
  private async takeBatch(): Promise<Buffer> {
    for (;;) {
      if (this.failure) throw this.failure;
      const reused = this.free.pop();
      if (reused !== undefined) return Buffer.from(reused);
      if (this.allocated < DIGEST_BATCHES) {
        this.allocated += 1;
        // allocUnsafeSlow: an ArrayBuffer of its own, so transferring it moves exactly this batch.
        return Buffer.allocUnsafeSlow(BATCH_BYTES);
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  private send(): void {
    // Transferred, not copied: the batch's memory moves to the worker, which hashes it and hands it back.
    // A short last batch is sent as a copy of its filled bytes (the digest follows at once).
    const batch = this.batch!;
    const whole = this.filled === BATCH_BYTES;
    const message = whole ? batch.buffer : batch.buffer.slice(batch.byteOffset, batch.byteOffset + this.filled);
    this.worker.postMessage(message, [message as ArrayBuffer]);
    this.batch = undefined;
    this.filled = 0;
  }
}
