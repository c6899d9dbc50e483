import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';

/** A pass-through stream that counts bytes and hashes them (sha256) on the way, for manifests. */
export class MeasuringStream extends Transform {
  private readonly hash = createHash('sha256');
  // Not `size`: upload libraries (lib-storage among them) read a body's `size` as its total length.
  bytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null, data?: Buffer) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }

  /** The hex sha256 of everything that passed; call once, after the stream ended. */
  sha256(): string {
    return this.hash.digest('hex');
  }
}
