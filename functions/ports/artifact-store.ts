import { read } from 'node:fs';
import { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  /** When the object was written, where the store knows (S3's LastModified): the cache's fallback takes the newest. */
  lastModified?: Date;
}

/** A byte range as HTTP and S3 take it: `start-end`, `start-` or the last `suffix` bytes. */
export type RangeRequest = { start: number; end?: number } | { suffix: number };

/** An object, or the requested part of it. */
export interface ObjectRead {
  body: Readable;
  /** Bytes in `body`. */
  length: number;
  /** The object's whole size. */
  total: number;
  /** The first and last byte (inclusive) of `body`, when a range was asked for. */
  range?: { start: number; end: number };
}

/**
 * A stream of a file the store may read again from its first byte: to send it as one
 * streamed request, and again on a retry. It is read through a descriptor the caller opened
 * before anyone else could touch the file, and only its first `reopenableLength` bytes (what
 * the caller wrote): never by its path, which a stage sharing the uid (Lambda) could replace
 * with a FIFO or a link, and never past what was written, which it could inflate with a
 * truncate of the same inode.
 */
export interface ReopenableFile extends Readable {
  readonly reopenableFd: number;
  readonly reopenableLength: number;
}

/**
 * The first `length` bytes of the file open at `fd`, read by position (pread) in 1 MiB
 * chunks. The descriptor stays open whatever happens to the stream (an fs.ReadStream on a
 * given fd closes it when destroyed, even with autoClose: false): its owner closes it.
 */
export function readFileFromStart(fd: number, length: number): Readable {
  return Readable.from(chunksOf(fd, length), { objectMode: false });
}

async function* chunksOf(fd: number, length: number): AsyncGenerator<Buffer> {
  for (let position = 0; position < length; ) {
    const size = Math.min(1024 * 1024, length - position);
    const { bytesRead, buffer } = await readAt(fd, Buffer.allocUnsafe(size), position);
    if (bytesRead === 0) throw new Error(`the file shrank to ${position} bytes while it was read (${length} expected)`);
    position += bytesRead;
    yield buffer.subarray(0, bytesRead);
  }
}

function readAt(fd: number, buffer: Buffer, position: number): Promise<{ bytesRead: number; buffer: Buffer }> {
  return new Promise((resolve, reject) => read(fd, buffer, 0, buffer.length, position, (error, bytesRead) => (error ? reject(error) : resolve({ bytesRead, buffer }))));
}

/** `stream` marked as the first `length` bytes of the file open at `fd` (see ReopenableFile). */
export function reopenableFile(stream: Readable, fd: number, length: number): ReopenableFile {
  return Object.assign(stream, { reopenableFd: fd, reopenableLength: length });
}

/**
 * Object storage for snapshots, logs, artifacts, results and reports.
 * On AWS and locally the same S3 adapter implements it (locally against s3rver).
 */
export interface ArtifactStore {
  /** Streams `body` to `key`; memory stays bounded whatever the size. */
  put(key: string, body: Readable | Buffer | string, contentType?: string): Promise<void>;
  /** A stream of the object, or `undefined` when there is none. */
  get(key: string): Promise<Readable | undefined>;
  /** The object as UTF-8 text, or `undefined` when there is none. */
  getText(key: string): Promise<string | undefined>;
  /**
   * The object (or a range of it) streamed, with its sizes: for serving large logs
   * without holding them. `undefined` when there is none; `'unsatisfiable'` when the
   * range starts past the end. Optional: stores that only feed the agent need not.
   */
  read?(key: string, range?: RangeRequest): Promise<ObjectRead | 'unsatisfiable' | undefined>;
  /** Every object under `prefix`. */
  list(prefix: string): AsyncIterable<StoredObject>;
}
