/**
 * A lock file created (O_EXCL) whose token could not be written (a full disk) is removed before the
 * error goes up: left behind, every later PUT of the key would wait the stale age, even once the
 * disk had room again.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

// Mocked: a disk that fills between creating the lock file and writing its token (nothing here can
// make a real disk do that on cue). Only the next FileHandle's writeFile fails.
const disk = vi.hoisted(() => ({ fullOnce: false }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    open: async (...args: Parameters<typeof real.open>) => {
      const handle = await real.open(...args);
      if (!disk.fullOnce) return handle;
      disk.fullOnce = false;
      return new Proxy(handle, {
        get(target, name) {
          if (name === 'writeFile') return async () => Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }));
          const value = Reflect.get(target, name) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    },
  };
});

const { renameLockPath, withRenameLock } = await import('../../../functions/adapters/local/s3rver-rename-lock.js');

describe('Function: withRenameLock, on a full disk', () => {
  it('removes the lock file whose token it could not write, so the next writer does not wait', async () => {
    // Prepare
    const folder = await mkdtemp(join(tmpdir(), 'rename-lock-full-'));
    const lock = renameLockPath(folder, 'history/octo/app/test.json._S3rver_object');
    disk.fullOnce = true;

    // Act
    const first = await withRenameLock(lock, async () => 'renamed').catch((error: NodeJS.ErrnoException) => error.code);
    const leftBehind = await stat(lock).then(() => true, () => false);
    const startedAt = Date.now();
    const second = await withRenameLock(lock, async () => 'renamed');
    const waitedMs = Date.now() - startedAt;
    await rm(folder, { recursive: true, force: true });

    // Assess
    expect(first).toBe('ENOSPC');
    expect(leftBehind).toBe(false);
    expect(second).toBe('renamed');
    expect(waitedMs).toBeLessThan(1_000);
  });
});
