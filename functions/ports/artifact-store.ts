import type { Readable } from 'node:stream';

export interface StoredObject {
  key: string;
  size: number;
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
  /** Every object under `prefix`. */
  list(prefix: string): AsyncIterable<StoredObject>;
}
