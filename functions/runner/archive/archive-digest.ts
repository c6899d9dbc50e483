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

/** Archives from this size on are hashed off the main thread; smaller ones inline (a worker's start costs more). */
export const OFF_THREAD_FROM_BYTES = 16 * 1024 * 1024;

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const hash = require('node:crypto').createHash('sha256');
parentPort.on('message', (message) => {
  if (message === 'digest') parentPort.postMessage(hash.digest('hex'));
  else hash.update(new Uint8Array(message));
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
    this.hasher.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
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
  update(chunk: Buffer): void {
    this.hash.update(chunk);
  }
  digest(): Promise<string> {
    return Promise.resolve(this.hash.digest('hex'));
  }
  close(): void {}
}

class WorkerHasher {
  private batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
  private filled = 0;
  private failure: Error | undefined;

  private constructor(private readonly worker: Worker) {
    // The worker must never keep the process alive on its own (a stream abandoned midway).
    worker.unref();
    worker.on('error', (error) => (this.failure = error));
  }

  static start(): WorkerHasher | undefined {
    try {
      return new WorkerHasher(new Worker(WORKER_SOURCE, { eval: true }));
    } catch {
      return undefined;
    }
  }

  update(chunk: Buffer): void {
    let offset = 0;
    while (offset < chunk.length) {
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
      this.worker.once('message', (sha256: string) => {
        resolve(sha256);
        this.close();
      });
      this.worker.once('error', reject);
      this.worker.once('exit', () => reject(this.failure ?? new Error('the hashing worker stopped before the digest')));
      this.worker.postMessage('digest');
    });
  }

  close(): void {
    void this.worker.terminate();
  }

  private send(): void {
    // Transferred, not copied: the batch's memory moves to the worker and a fresh one is filled
    // (allocUnsafeSlow gives the batch an ArrayBuffer of its own; only a short last batch is cut).
    const full = this.filled === this.batch.buffer.byteLength ? this.batch.buffer : this.batch.buffer.slice(0, this.filled);
    this.worker.postMessage(full, [full as ArrayBuffer]);
    this.batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.filled = 0;
  }
}
