/**
 * s3rver 3.7 writes an object or a part through a write stream that has no error
 * listener, and answers success when its own transform finishes, before the file
 * is written. On a full disk the write stream's ENOSPC is an unhandled 'error'
 * event, which kills the whole farm; and a short write could be acknowledged as a
 * whole object. This replaces the writing methods of its filesystem store
 * (same file layout: the object or part file, then its `.md5` and metadata as
 * s3rver writes them) with writes that:
 * - acknowledge only once the file is flushed;
 * - on any write error remove the partial file and answer S3 `InternalError`
 *   with a message naming the farm's disk, so the upload fails (the SDK retries,
 *   then the stage's upload fails with that reason) and nothing partial remains;
 * - replace an object whole: the object, its `.md5` and its metadata are each written
 *   beside their final name and renamed over it, so a GET while the key is overwritten
 *   reads the old object or the new one, never a truncated file (S3's strong
 *   read-after-write consistency; s3rver truncates in place). The temporary names end
 *   in `.partial-…`, which s3rver's listing skips (it lists only `._S3rver_object` files).
 * Checked against s3rver 3.7.1 (package-lock.json pins it): the methods are
 * `FilesystemStore.putObject(object)` (also what `putObjectMultipart` completes an upload with),
 * `putPart(bucket, uploadId, partNumber, content)` and `initiateUpload(bucket, key, uploadId, metadata)`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putMetadata(bucket: string, key: string, metadata: Record<string, string>, md5: string): Promise<void>;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void>;
}

/** s3rver's own error type (`s3rver/lib/models/error.js`), so its error middleware renders our message as S3 XML. */
type S3ErrorType = new (code: string, message: string) => Error;

/**
 * Makes `store` (an s3rver's `server.store`) write safely; see the file comment. `S3Error` must be
 * the class of the same s3rver (embedded-s3.ts loads both together).
 */
export function makeS3rverWritesSafe(store: unknown, S3Error: S3ErrorType): void {
  const fsStore = store as FilesystemStore;
  if (typeof fsStore.putObject !== 'function' || typeof fsStore.putPart !== 'function' || typeof fsStore.getResourcePath !== 'function') {
    throw new Error('s3rver changed: its filesystem store no longer has putObject/putPart/getResourcePath (see s3rver-safe-writes.ts)');
  }
  const failed = failer(S3Error);
  const writeFully = fullWriter(failed);
  fsStore.putObject = async function putObject(object) {
    const path = fsStore.getResourcePath(object.bucket, object.key, 'object');
    const partial = `.partial-${randomUUID()}`;
    const written = await writeFully(object.content, path + partial, `object ${object.key}`);
    // s3rver's own putMetadata picks the metadata it keeps; it writes under a temporary key here.
    const temporaryKey = object.key + partial;
    const staged = [
      [fsStore.getResourcePath(object.bucket, temporaryKey, 'object.md5'), fsStore.getResourcePath(object.bucket, object.key, 'object.md5')],
      [fsStore.getResourcePath(object.bucket, temporaryKey, 'metadata.json'), fsStore.getResourcePath(object.bucket, object.key, 'metadata.json')],
      // The object last: a new key appears only once its metadata is there.
      [path + partial, path],
    ] as const;
    try {
      await fsStore.putMetadata(object.bucket, temporaryKey, object.metadata, written.md5);
      for (const [from, to] of staged) await rename(from, to);
    } catch (error) {
      await Promise.all(staged.map(([from]) => unlink(from).catch(() => undefined)));
      return failed(error, path, `metadata of object ${object.key}`);
    }
    return written;
  };
  // A multipart upload starts by writing its key and metadata files: on a full disk that too must name the disk.
  const initiateUpload = fsStore.initiateUpload.bind(fsStore);
  fsStore.initiateUpload = async function initiate(bucket, key, uploadId, metadata) {
    await initiateUpload(bucket, key, uploadId, metadata).catch((error: unknown) =>
      failed(error, join(fsStore.getResourcePath(bucket, undefined, 'uploads'), uploadId, 'key'), `upload of ${key}`),
    );
  };
  fsStore.putPart = async function putPart(bucket, uploadId, partNumber, content) {
    const path = join(fsStore.getResourcePath(bucket, undefined, 'uploads'), uploadId, String(partNumber));
    const written = await writeFully(content, path, `part ${partNumber} of upload ${uploadId}`);
    await writeFile(`${path}.md5`, written.md5).catch((error: unknown) => failed(error, path, `part ${partNumber}`));
    return written;
  };
}

type Failed = (error: unknown, path: string, what: string) => never;

function fullWriter(failed: Failed) {
  return async function writeFully(content: Buffer | Readable, path: string, what: string): Promise<{ size: number; md5: string }> {
    await mkdir(dirname(path), { recursive: true }).catch((error: unknown) => failed(error, path, what));
    const md5 = createHash('md5');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        md5.update(chunk);
        size += chunk.length;
        callback(null, chunk);
      },
    });
    try {
      await pipeline(Buffer.isBuffer(content) ? Readable.from([content]) : content, count, createWriteStream(path));
    } catch (error) {
      await unlink(path).catch(() => undefined);
      return failed(error, path, what);
    }
    return { size, md5: md5.digest('hex') };
  };
}

function failer(S3Error: S3ErrorType): Failed {
  return function failed(error: unknown, path: string, what: string): never {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOSPC' || code === 'EDQUOT'
      ? `the local farm's disk is full (${code}) at ${dirname(path)}: free space or run \`buildfarm gc\``
      : `the local farm could not write to its disk at ${dirname(path)} (${code ?? (error as Error).message})`;
    throw new S3Error('InternalError', `${what}: ${reason}`);
  };
}
