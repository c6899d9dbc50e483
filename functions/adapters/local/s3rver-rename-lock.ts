/**
 * A PUT of a key renames three files into place (s3rver-safe-writes.ts). Within one s3rver a
 * KeyedLock keeps two PUTs' renames apart, but a `run` beside a `serve` on one data directory are
 * two processes with two s3rvers on the same files: their renames could interleave, leaving one
 * PUT's object under the other's metadata (a stamp that never matches, so the key read back without
 * its Content-Type until written again: test/local/s3rver-two-writers.test.ts). This is a lock file
 * per key in the bucket's partial folder, created with O_EXCL, held only for the renames (microseconds).
 *
 * A holder killed between creating and removing it leaves it behind: a lock file older than
 * STALE_AFTER_MS is removed by the next writer. Two writers breaking the same stale lock at once could
 * both go ahead, and so could one that outlasts a holder stopped for longer (SIGSTOP); the worst that
 * does is what happened without the lock, never a torn body (the read opens one file).
 */
import { createHash } from 'node:crypto';
import { open, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Far longer than three renames ever take, short enough that a crash costs one writer a few seconds once. */
export const STALE_AFTER_MS = 5_000;

/**
 * The lock file in `folder` (the bucket's partial folder) for the object file at `objectPath`: a hash,
 * so any key fits a file name. Keyed on the file, not the key: s3rver stores keys that differ only by
 * a `.` segment (`a/./b`, `a/b`) in the same files (test/local/s3rver-two-writers.test.ts).
 */
export function renameLockPath(folder: string, objectPath: string): string {
  return join(folder, `lock-${createHash('sha256').update(objectPath).digest('hex').slice(0, 40)}`);
}

/** Runs `work` while holding the lock file at `path`, waiting for another process's hold to end. */
export async function withRenameLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  await acquire(path);
  try {
    return await work();
  } finally {
    await unlink(path).catch(() => undefined);
  }
}

async function acquire(path: string): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await (await open(path, 'wx')).close();
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const held = await stat(path).catch(() => undefined);
    if (held !== undefined && Date.now() - held.mtimeMs > STALE_AFTER_MS) await unlink(path).catch(() => undefined);
    else await sleep(Math.min(1 + attempt, 10));
  }
}
