/**
 * A PUT of a key renames three files into place (s3rver-safe-writes.ts). Within one s3rver a
 * KeyedLock keeps two PUTs' renames apart, but a `run` beside a `serve` on one data directory are
 * two processes with two s3rvers on the same files: their renames could interleave, leaving one
 * PUT's object under the other's metadata (a stamp that never matches, so the key read back without
 * its Content-Type until written again: test/local/s3rver-two-writers.test.ts). This is a lock file
 * per object file in the bucket's partial folder, created with O_EXCL, held only for the renames
 * (microseconds).
 *
 * Named from the object file's path within its bucket folder, not its whole path: two processes may
 * reach one data directory by different paths (a symbolic link, a container's bind mount). Folded to
 * one case and Unicode form, so keys a case-insensitive disk (macOS) stores in one file share a lock
 * too; on Linux that only makes two keys differing in case take turns.
 *
 * A holder killed between creating and removing it leaves it behind: a lock file whose modification
 * time is more than STALE_AFTER_MS away from now, in either direction (a clock stepped back after
 * the kill), is removed by the next writer. Each holder removes only a lock file with its own token
 * in it. Something other than a file at the lock's path fails the write, naming the path, and so
 * does a wait past WAIT_LIMIT_MS: a PUT never hangs on the lock. (s3rver-safe-writes.ts refuses keys
 * under the partial folder, so no S3 client can put a folder there.) The partial folder is created
 * when missing (a data directory from before partial writes, a DELETE its first use).
 *
 * Two writers breaking the same stale lock at once could both go ahead, and so could one that
 * outlasts a holder stopped for longer (SIGSTOP); the worst that does is what happened without the
 * lock, never a torn body (the read opens one file).
 */
import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Far longer than three renames ever take, short enough that a crash costs one writer a few seconds once. */
export const STALE_AFTER_MS = 5_000;
/** A writer that waited this long (live holders taking turns for all of it) fails rather than waits on. */
export const WAIT_LIMIT_MS = 30_000;

/** The lock file in `partialFolder` (the bucket's) for the object file at `nameInBucket` (its path relative to the bucket folder). */
export function renameLockPath(partialFolder: string, nameInBucket: string): string {
  const folded = nameInBucket.normalize('NFC').toLowerCase();
  return join(partialFolder, `lock-${createHash('sha256').update(folded).digest('hex').slice(0, 40)}`);
}

/** Runs `work` while holding the lock file at `path`, waiting for another process's hold to end. */
export async function withRenameLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const token = await acquire(path);
  try {
    return await work();
  } finally {
    await release(path, token);
  }
}

async function acquire(path: string): Promise<string> {
  const token = randomUUID();
  const giveUpAt = Date.now() + WAIT_LIMIT_MS;
  for (let attempt = 0; ; attempt++) {
    if (await created(path, token)) return token;
    const held = await lstat(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    // Only ever a file the farm made: anything else (a folder, a link) would never go away by itself.
    if (held !== undefined && !held.isFile()) throw new Error(`the lock ${path} is not a file the farm made: remove it`);
    if (held !== undefined && Math.abs(Date.now() - held.mtimeMs) > STALE_AFTER_MS) {
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      continue;
    }
    if (Date.now() > giveUpAt) throw new Error(`the lock ${path} was still held after ${WAIT_LIMIT_MS / 1000} s`);
    await sleep(Math.min(1 + attempt, 10));
  }
}

/** Creates the lock file holding `token`; false when it exists. A lock whose token could not be written is removed. */
async function created(path: string, token: string): Promise<boolean> {
  let file;
  try {
    file = await open(path, 'wx').catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      await mkdir(dirname(path), { recursive: true });
      return open(path, 'wx');
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await file.writeFile(token);
  } catch (error) {
    // (A full disk, say.) Left behind, it would cost every later writer of the key the stale age.
    await file.close().catch(() => undefined);
    await unlink(path).catch(() => undefined);
    throw error;
  }
  await file.close();
  return true;
}

/** Removes the lock file if it is still this holder's (one broken as stale now belongs to another). */
async function release(path: string, token: string): Promise<void> {
  const content = await readFile(path, 'utf8').catch(() => undefined);
  if (content === token) await unlink(path).catch(() => undefined);
}
