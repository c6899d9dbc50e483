import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { STALE_AFTER_MS, renameLockPath, withRenameLock } from '../../../functions/adapters/local/s3rver-rename-lock.js';

describe('Function: withRenameLock', () => {
  let folder: string;
  let lock: string;

  beforeEach(async () => {
    folder = await mkdtemp(join(tmpdir(), 'rename-lock-'));
    lock = renameLockPath(folder, '/data/s3/buildfarm-local/history/octo/app/test.json._S3rver_object');
  });

  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  it('waits while another process holds the key, and goes ahead once its lock file is gone', async () => {
    // Prepare: another process's hold
    await writeFile(lock, '');
    let ran = false;

    // Act
    const held = withRenameLock(lock, async () => {
      ran = true;
    });
    await sleep(100);
    const ranWhileHeld = ran;
    await rm(lock);
    await held;

    // Assess
    expect(ranWhileHeld).toBe(false);
    expect(ran).toBe(true);
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('removes a lock file left by a holder that died, once it is older than the stale age', async () => {
    // Prepare: a lock file last touched well before the stale age
    await writeFile(lock, '');
    const old = new Date(Date.now() - STALE_AFTER_MS - 1_000);
    await utimes(lock, old, old);
    const startedAt = Date.now();

    // Act
    const result = await withRenameLock(lock, async () => 'renamed');

    // Assess
    expect(result).toBe('renamed');
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('names a distinct lock file per object file', () => {
    expect(renameLockPath(folder, '/s3/b/k1._S3rver_object')).not.toBe(renameLockPath(folder, '/s3/b/k2._S3rver_object'));
    expect(renameLockPath(folder, '/s3/b/k._S3rver_object')).toMatch(/\/lock-[0-9a-f]{40}$/);
  });
});
