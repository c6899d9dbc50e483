/**
 * How the local farm's s3rver ties an object's metadata to one version of its body.
 *
 * s3rver keeps a key as three files (the object, `.md5`, `metadata.json`), and no rename replaces
 * three files at once. So the farm stamps the metadata file with the identity of the object file it
 * was written for (inode, size, modification time: a rename keeps all three), and writes the new
 * version beside the bucket first (the partial folder), then renames metadata before object. A read
 * opens the object, and trusts the metadata only when its stamp is that open file's; otherwise a
 * write is between its renames, or one stopped there (s3rver-consistent-reads.ts).
 */
import type { Stats } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a bucket's objects are written before they are renamed into place; s3rver lists only `*._S3rver_object` files, so never these. */
export const PARTIAL_FOLDER = '.buildfarm-partial';
/** The metadata field naming the object file the metadata belongs to. */
export const STAMP_FIELD = 'x-buildfarm-object';
/** The metadata field holding that object's MD5 (its ETag). */
export const MD5_FIELD = 'x-buildfarm-md5';

export function stampOf(stats: Pick<Stats, 'ino' | 'size' | 'mtimeMs'>): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}

/**
 * The names the farm gives its files in the partial folder: a PUT's `UUID.object`, `UUID.md5` and
 * `UUID.metadata.json` (s3rver-safe-writes.ts) and a key's `lock-HASH` (s3rver-rename-lock.ts).
 * The sweep deletes nothing else: an S3 key under `.buildfarm-partial/` is stored in the same folder
 * (as `NAME._S3rver_object` and its companions), and it is a user's object, not an abandoned write.
 */
const FARM_PARTIAL_NAME = /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(?:object|md5|metadata\.json)|lock-[0-9a-f]{40})$/;

/** A partial file this old belongs to a write that will never finish: its farm stopped (an upload that still runs keeps writing it). */
export const ABANDONED_AFTER_MS = 60 * 60 * 1000;

/**
 * Deletes the partial files that farms stopped mid-write left in each bucket of an s3rver `root`.
 * Another farm may be serving the same directory (`run` beside `serve`), so a partial file written
 * to within the last hour is kept.
 */
export async function sweepAbandonedPartials(root: string, now = Date.now()): Promise<void> {
  const buckets = await readdir(root, { withFileTypes: true }).catch(() => []);
  await Promise.all(
    buckets
      .filter((entry) => entry.isDirectory())
      .map(async (bucket) => {
        const folder = join(root, bucket.name, PARTIAL_FOLDER);
        const names = await readdir(folder).catch(() => [] as string[]);
        await Promise.all(
          names.filter((name) => FARM_PARTIAL_NAME.test(name)).map(async (name) => {
            const file = join(folder, name);
            const modified = (await stat(file).catch(() => undefined))?.mtimeMs;
            if (modified !== undefined && now - modified > ABANDONED_AFTER_MS) await unlink(file).catch(() => undefined);
          }),
        );
      }),
  );
}
