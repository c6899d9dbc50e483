/**
 * A pass-through stream that measures an archive on its way: sha256 and byte count.
 */
import { Transform, type TransformCallback } from 'node:stream';
import { createHash } from 'node:crypto';

export interface Digest {
  sha256: string;
  bytes: number;
}

export class ArchiveDigest extends Transform {
  private readonly hash = createHash('sha256');
  private bytes = 0;
  private readonly settled: Promise<Digest>;
  private settle!: (digest: Digest) => void;

  constructor() {
    super({ highWaterMark: 1024 * 1024 });
    this.settled = new Promise((resolve) => (this.settle = resolve));
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.settle({ sha256: this.hash.digest('hex'), bytes: this.bytes });
    callback();
  }

  /** The digest of everything that passed; resolves when the stream has been flushed. */
  result(): Promise<Digest> {
    return this.settled;
  }
}
