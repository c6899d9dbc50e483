import { mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
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
    lock = renameLockPath(folder, 'history/octo/app/test.json._S3rver_object');
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

  it('breaks a lock file dated in the future (a clock stepped back after its holder died), not only an old one', async () => {
    // Prepare
    await writeFile(lock, '');
    const future = new Date(Date.now() + 3600_000);
    await utimes(lock, future, future);

    // Act
    const outcome = await Promise.race([withRenameLock(lock, async () => 'renamed'), sleep(STALE_AFTER_MS + 3_000).then(() => 'still waiting')]);

    // Assess
    expect(outcome).toBe('renamed');
  }, 20_000);

  it('leaves a lock file that another writer took over (after breaking it as stale) to that writer', async () => {
    // Prepare
    let successor = '';

    // Act: while this hold lasts, another writer breaks it and takes the lock with its own token
    await withRenameLock(lock, async () => {
      await rm(lock);
      await writeFile(lock, 'the successor');
      successor = await readFile(lock, 'utf8');
    });

    // Assess
    expect(successor).toBe('the successor');
    expect(await readFile(lock, 'utf8')).toBe('the successor');
  });

  it('names one lock file per object file in its bucket, whatever the case or Unicode form of the name', () => {
    expect(renameLockPath(folder, 'k1._S3rver_object')).not.toBe(renameLockPath(folder, 'k2._S3rver_object'));
    expect(renameLockPath(folder, 'Logs/K._S3rver_object')).toBe(renameLockPath(folder, 'logs/k._S3rver_object'));
    expect(renameLockPath(folder, 'caf\u00e9._S3rver_object')).toBe(renameLockPath(folder, 'cafe\u0301._S3rver_object'));
    expect(renameLockPath(folder, 'k._S3rver_object')).toMatch(/\/lock-[0-9a-f]{40}$/);
  });

  it('fails at once, naming the lock, when its path is a folder or a dangling link (neither would ever go away)', async () => {
    // Prepare
    const linkLock = renameLockPath(folder, 'other._S3rver_object');
    await mkdir(join(lock, 'inside'), { recursive: true });
    await symlink(join(folder, 'nowhere'), linkLock);
    const startedAt = Date.now();

    // Act
    const onFolder = await withRenameLock(lock, async () => 'renamed').catch((error: Error) => error.message);
    const onLink = await withRenameLock(linkLock, async () => 'renamed').catch((error: Error) => error.message);

    // Assess
    expect(onFolder).toBe(`the lock ${lock} is not a file the farm made: remove it`);
    expect(onLink).toBe(`the lock ${linkLock} is not a file the farm made: remove it`);
    expect(Date.now() - startedAt).toBeLessThan(1_000);
  });

  it('creates the partial folder when it is missing (a data directory from before partial writes)', async () => {
    // Prepare
    const missing = renameLockPath(join(folder, 'bucket', '.buildfarm-partial'), 'k._S3rver_object');

    // Act
    const result = await withRenameLock(missing, async () => 'renamed');

    // Assess
    expect(result).toBe('renamed');
    await expect(stat(missing)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
