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
 * - replace an object whole, as one version: the object and its metadata (stamped with the
 *   object file's identity, s3rver-object-stamp.ts) and `.md5` are written in the bucket's partial
 *   folder and renamed into place, object last, with one key's renames never interleaved, in this
 *   process or with another on the same directory (s3rver-rename-lock.ts). A GET while the key is
 *   overwritten reads the old version or the new one, body, ETag and type together (S3's strong
 *   read-after-write consistency; s3rver truncates in place, and its reads are made consistent in
 *   s3rver-consistent-reads.ts).
 * Checked against s3rver 3.7.1 (package-lock.json pins it): the methods are
 * `FilesystemStore.putObject(object)` (also what `putObjectMultipart` completes an upload with),
 * `putPart(bucket, uploadId, partNumber, content)` and `initiateUpload(bucket, key, uploadId, metadata)`.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KeyedLock } from './keyed-lock.js';
import { MD5_FIELD, PARTIAL_FOLDER, STAMP_FIELD, stampOf } from './s3rver-object-stamp.js';
import { renameLockPath, withRenameLock } from './s3rver-rename-lock.js';

interface S3rverObject {
  bucket: string;
  key: string;
  content: Buffer | Readable;
  metadata: Record<string, string>;
}

interface FilesystemStore {
  getBucketPath(bucket: string): string;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  putObject(object: S3rverObject): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: Readable): Promise<{ size: number; md5: string }>;
  initiateUpload(bucket: string, key: string, uploadId: string, metadata: Record<string, string>): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
}

/** s3rver's own error type (`s3rver/lib/models/error.js`), so its error middleware renders our message as S3 XML. */
export type S3ErrorType = new (code: string, message: string) => Error;

/**
 * Makes `store` (an s3rver's `server.store`) write safely; see the file comment. `S3Error` must be
 * the class of the same s3rver (embedded-s3.ts loads both together), and `allowedMetadata` its
 * `S3Object.ALLOWED_METADATA` (the headers s3rver keeps with an object).
 */
export function makeS3rverWritesSafe(store: unknown, S3Error: S3ErrorType, allowedMetadata: readonly string[]): void {
  const fsStore = store as FilesystemStore;
  if (['putObject', 'putPart', 'getResourcePath', 'getBucketPath', 'deleteObject', 'initiateUpload'].some((method) => typeof (fsStore as unknown as Record<string, unknown>)[method] !== 'function')) {
    throw new Error('s3rver changed: its filesystem store no longer has putObject/putPart/getResourcePath/getBucketPath/deleteObject/initiateUpload (see s3rver-safe-writes.ts)');
  }
  const failed = failer(S3Error);
  const writeFully = fullWriter(failed);
  const renames = new KeyedLock();
  /** Refuses a key stored under the partial folder, or outside the bucket's folder (`.` and `..` segments resolved as s3rver's paths resolve them). */
  const refuseFarmKeys = (bucket: string, key: string) => {
    const stored = relative(fsStore.getBucketPath(bucket), fsStore.getResourcePath(bucket, key, 'object'));
    if (stored.startsWith(`${PARTIAL_FOLDER}${sep}`)) {
      throw new S3Error('InvalidArgument', `keys under ${PARTIAL_FOLDER}/ are the local farm's own (its unfinished writes and locks): use another key`);
    }
    if (stored.startsWith(`..${sep}`) || isAbsolute(stored)) throw new S3Error('InvalidArgument', `key ${key} would be stored outside its bucket`);
  };
  /** The lock of the object file at `path` in `bucket`, in turn with this s3rver's others, then other processes' (s3rver-rename-lock.ts). */
  const lockedFile = <T>(bucket: string, path: string, work: () => Promise<T>): Promise<T> => {
    const bucketPath = fsStore.getBucketPath(bucket);
    // Keyed on the object file: keys that differ by a `.` segment share it.
    const lock = renameLockPath(join(bucketPath, PARTIAL_FOLDER), relative(bucketPath, path));
    return renames.run(path, () => withRenameLock(lock, work));
  };
  fsStore.putObject = async function putObject(object) {
    refuseFarmKeys(object.bucket, object.key);
    const path = fsStore.getResourcePath(object.bucket, object.key, 'object');
    const partial = join(fsStore.getBucketPath(object.bucket), PARTIAL_FOLDER, randomUUID());
    const written = await writeFully(object.content, `${partial}.object`, `object ${object.key}`);
    const staged = [
      [`${partial}.md5`, fsStore.getResourcePath(object.bucket, object.key, 'object.md5')],
      [`${partial}.metadata.json`, fsStore.getResourcePath(object.bucket, object.key, 'metadata.json')],
      // The object last: a new key appears only once its metadata is there.
      [`${partial}.object`, path],
    ] as const;
    try {
      const stamp = stampOf(await stat(`${partial}.object`));
      await writeFile(`${partial}.md5`, written.md5);
      await writeFile(`${partial}.metadata.json`, JSON.stringify(keptMetadata(object.metadata, allowedMetadata, stamp, written.md5), null, 2));
      await lockedFile(object.bucket, path, () => renameIntoPlace(staged));
    } catch (error) {
      await Promise.all(staged.map(([from]) => unlink(from).catch(() => undefined)));
      // A folder of the key is a file: s3rver keeps key `a` as the file `a._S3rver_object`, so a key
      // `a._S3rver_object/b` has no place in its layout. The key's fault, not the disk's.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EEXIST') {
        throw new S3Error('InvalidArgument', `key ${object.key}: a folder on its path is a file in the local farm's S3 (s3rver keeps key "a" as the file "a._S3rver_object"): use another key`);
      }
      return failed(error, path, `object ${object.key}`);
    }
    return written;
  };
  // A DELETE takes the key's lock too: between a PUT's renames it would remove the first file, then
  // the emptied folder, and the PUT's next rename would fail.
  const deleteObject = fsStore.deleteObject.bind(fsStore);
  fsStore.deleteObject = async function deleteLocked(bucket, key) {
    return lockedFile(bucket, fsStore.getResourcePath(bucket, key, 'object'), () => deleteObject(bucket, key));
  };
  // A multipart upload starts by writing its key and metadata files: on a full disk that too must name the disk.
  const initiateUpload = fsStore.initiateUpload.bind(fsStore);
  fsStore.initiateUpload = async function initiate(bucket, key, uploadId, metadata) {
    refuseFarmKeys(bucket, key);
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

/**
 * Renames a PUT's files into place, creating the key's folder first. s3rver's DELETE removes a folder
 * once it is empty, so the folder can vanish between its creation and the first rename: that rename is
 * tried once more after creating the folder again (the later ones go into a folder that now holds
 * the first file, which DELETE leaves alone). Otherwise the PUT failed with a false "disk" error.
 */
async function renameIntoPlace(staged: ReadonlyArray<readonly [string, string]>): Promise<void> {
  for (const [index, [from, to]] of staged.entries()) {
    if (index === 0) await mkdir(dirname(to), { recursive: true });
    await rename(from, to).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT' || index > 0) throw error;
      await mkdir(dirname(to), { recursive: true });
      await rename(from, to);
    });
  }
}

/** What s3rver's own putMetadata keeps (its allowed headers and user metadata), and the stamp. */
function keptMetadata(metadata: Record<string, string>, allowed: readonly string[], stamp: string, md5: string): Record<string, string> {
  const kept = Object.fromEntries(Object.entries(metadata).filter(([name]) => allowed.includes(name) || name.startsWith('x-amz-meta-')));
  return { ...kept, [STAMP_FIELD]: stamp, [MD5_FIELD]: md5 };
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
