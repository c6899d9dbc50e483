import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
  /** When the object was written, where the store knows (S3's LastModified): the cache's fallback takes the newest. */
  lastModified?: Date;
  /** S3's ETag, where the store knows it: the same ETag, the same bytes (a copy made of it need not be made again). */
  etag?: string;
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
 * A stream the store may read again from its first byte: to send it as one streamed
 * request, and again on a retry. `reopen` gives a fresh stream of the same
 * `reopenableLength` bytes each time (for a stage's log: read through a descriptor opened
 * before any command ran, never by its path; runner/file-from-start.ts).
 */
export interface ReopenableFile extends Readable {
  readonly reopen: () => Readable;
  readonly reopenableLength: number;
}

/** `stream` marked as `length` bytes that `reopen` can read again from the start (see ReopenableFile). */
export function reopenableFile(stream: Readable, reopen: () => Readable, length: number): ReopenableFile {
  return Object.assign(stream, { reopen, reopenableLength: length });
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
