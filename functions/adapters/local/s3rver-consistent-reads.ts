/**
 * s3rver 3.7's reads of an object (`FilesystemStore.getMetadata`, and `getObject` through it) stat
 * the object file, read its `.md5` and metadata, and then open the file again by name. While the key
 * is overwritten (s3rver-safe-writes.ts renames the new version into place), that could answer one
 * version's body, cut to the other's length, under the other's ETag. These replacements open the
 * object file once, take its size and time from that open file, and take ETag and metadata only from
 * a metadata file stamped for that very file (s3rver-object-stamp.ts). A stamp for another file
 * means a write is between its renames: the read opens again, a few times; a stamp that stays wrong
 * means a farm stopped between them, and the read answers the body with its own MD5 and no stored
 * metadata (Content-Type `binary/octet-stream`) until the key is written again. Objects written
 * before stamps existed are read as s3rver reads them.
 * Checked against s3rver 3.7.1: `getMetadata(bucket, key)` answers the stored metadata plus `etag`,
 * `last-modified` and `content-length`; `getObject(bucket, key, { start, end })` answers an
 * `S3Object` (null when absent) with `range` set when a range was asked for, and no content when
 * that range is not satisfiable.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { open, readFile, writeFile, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { MD5_FIELD, STAMP_FIELD, stampOf } from './s3rver-object-stamp.js';
import { requestedSuffix } from './s3rver-suffix-range.js';
import { releaseIfUnsent } from './s3rver-unsent-bodies.js';

type Metadata = Record<string, string | number>;

interface S3ObjectType {
  new (bucket: string, key: string, content: Readable | null, metadata: Metadata): { range?: { start: number; end: number } };
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Metadata>;
  getObject(bucket: string, key: string, options?: { start?: number; end?: number }): Promise<unknown>;
}

/** How often a read opens again while the metadata names another file, and how long it waits between (150 ms in all). */
const REOPENS = 12;
const reopenWaitMs = (reopen: number) => Math.min(2 * (reopen + 1), 20);

export function makeS3rverReadsConsistent(store: unknown, S3Object: S3ObjectType): void {
  const fsStore = store as FilesystemStore;
  if (typeof fsStore.getMetadata !== 'function' || typeof fsStore.getObject !== 'function') {
    throw new Error('s3rver changed: its filesystem store no longer has getMetadata/getObject (see s3rver-consistent-reads.ts)');
  }

  /** The object file, opened, with the metadata of that very file. Throws ENOENT when the key is absent. */
  async function openVersion(bucket: string, key: string): Promise<{ file: FileHandle; metadata: Metadata }> {
    const objectPath = fsStore.getResourcePath(bucket, key, 'object');
    const metadataPath = fsStore.getResourcePath(bucket, key, 'metadata.json');
    for (let reopen = 0; ; reopen++) {
      const file = await open(objectPath, 'r');
      try {
        const stats = await file.stat();
        const stored = await readJson(metadataPath);
        if (stored === undefined || stored[STAMP_FIELD] === undefined) {
          return { file, metadata: intrinsic(stored ?? {}, await unstampedMd5(`${objectPath}.md5`, file), stats) };
        }
        const { [STAMP_FIELD]: stamp, [MD5_FIELD]: md5, ...kept } = stored;
        if (stamp === stampOf(stats)) return { file, metadata: intrinsic(kept, String(md5), stats) };
        if (reopen >= REOPENS) return { file, metadata: intrinsic({}, await md5Of(file), stats) };
      } catch (error) {
        await file.close();
        throw error;
      }
      await file.close();
      await sleep(reopenWaitMs(reopen));
    }
  }

  fsStore.getMetadata = async function getMetadata(bucket, key) {
    const { file, metadata } = await openVersion(bucket, key);
    await file.close();
    return metadata;
  };

  // `this`: the request's view of the store when s3rver's controller calls it (s3rver-request-context.ts).
  fsStore.getObject = async function getObject(this: unknown, bucket, key, options) {
    let opened: { file: FileHandle; metadata: Metadata };
    try {
      opened = await openVersion(bucket, key);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const { file, metadata } = opened;
    try {
      const size = Number(metadata['content-length']);
      const ranged = options !== undefined && (options.start !== undefined || options.end !== undefined);
      // A suffix range (s3rver-suffix-range.ts): the last N bytes of this very file. Of an empty
      // object it is the whole (empty) object, answered 200; any other range of an empty object is
      // unsatisfiable (RFC 9110 14.1.2; S3 answers InvalidRange). s3rver 3.7 answered those 206
      // with Content-Length 1 and no body, and the reader hung.
      const suffix = requestedSuffix(this);
      if (!ranged || (size === 0 && suffix !== undefined)) {
        const content = file.createReadStream();
        releaseIfUnsent(this, content);
        return new S3Object(bucket, key, content, metadata);
      }
      const start = suffix === undefined ? (options.start ?? 0) : Math.max(0, size - suffix);
      const range = { start, end: Math.min(options.end ?? Infinity, size - 1) };
      const satisfiable = range.start >= 0 && range.start <= range.end;
      // The stream reads the file opened above, whatever has been renamed over its name since; it closes it when done.
      const content = satisfiable ? file.createReadStream({ start: range.start, end: range.end }) : null;
      if (content === null) await file.close();
      else releaseIfUnsent(this, content);
      const object = new S3Object(bucket, key, content, metadata);
      object.range = range;
      return object;
    } catch (error) {
      await file.close().catch(() => undefined);
      throw error;
    }
  };
}

function intrinsic(stored: Record<string, unknown>, md5: string, stats: Stats): Metadata {
  return { ...(stored as Metadata), etag: JSON.stringify(md5), 'last-modified': stats.mtime.toUTCString(), 'content-length': stats.size };
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  return text === undefined ? undefined : (JSON.parse(text) as Record<string, unknown>);
}

/** As s3rver does for an object written without a stamp: its `.md5` file, or the MD5 of its body, then kept. */
async function unstampedMd5(md5Path: string, file: FileHandle): Promise<string> {
  const kept = await readFile(md5Path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (kept !== undefined) return kept;
  const md5 = await md5Of(file);
  await writeFile(md5Path, md5);
  return md5;
}

async function md5Of(file: FileHandle): Promise<string> {
  const hash = createHash('md5');
  const buffer = Buffer.allocUnsafe(1 << 20);
  for (let position = 0; ; ) {
    const { bytesRead } = await file.read(buffer, 0, buffer.length, position);
    if (bytesRead === 0) return hash.digest('hex');
    hash.update(buffer.subarray(0, bytesRead));
    position += bytesRead;
  }
}
