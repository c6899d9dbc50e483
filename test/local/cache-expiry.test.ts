/**
 * `buildfarm gc` (and `serve` at start) expire dependency caches after CACHE_EXPIRY_DAYS,
 * as the S3 lifecycle rule ExpireCaches does on AWS: against the embedded S3 (s3rver).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deletePrefix } from '../../functions/adapters/local/delete-prefix.js';
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import { CACHE_EXPIRY_DAYS } from '../../functions/domain/cache/cache-report.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { collectGarbage } from '../../functions/local/garbage-collect.js';
import { expiredCacheObjects } from '../../functions/local/retention.js';

const DAY = 24 * 3600 * 1000;

describe('Function: expiredCacheObjects', () => {
  it('lets go cache objects saved more than 7 days ago, keeps newer ones and those of unknown age', () => {
    const now = new Date('2026-12-10T00:00:00Z');
    const objects = [
      { key: 'caches/o/r/main/npm/old.json', size: 1, lastModified: new Date(now.getTime() - 8 * DAY) },
      { key: 'caches/o/r/main/npm/new.json', size: 1, lastModified: new Date(now.getTime() - 6 * DAY) },
      { key: 'caches/o/r/main/npm/unknown.json', size: 1 },
    ];
    expect(CACHE_EXPIRY_DAYS).toBe(7);
    expect(expiredCacheObjects(objects, now)).toEqual(['caches/o/r/main/npm/old.json']);
  });
});

describe('Function: collectGarbage (caches)', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gc-cache-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('removes expired cache entries from the embedded S3 and leaves builds and history alone', async () => {
    // Prepare: objects written now, collected as if 8 days had passed
    const store = await BuildStore.open(join(directory, 'builds'));
    const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
    const s3 = await startEmbeddedS3(join(directory, 's3'));
    const hash = 'a'.repeat(64);
    await s3.store.put(`caches/o/r/main/npm/${hash}.json`, '{}');
    await s3.store.put(`caches/o/r/main/npm/${hash}.home.tar`, 'tar');
    await s3.store.put('history/o/r/build.json', '{}');
    try {
      // Act
      const dry = await collectGarbage({ store, bus, deleteObjects: (p) => deletePrefix(s3.client, s3.bucket, p), listObjects: (p) => s3.store.list(p), workRoot: join(directory, 'work'), now: new Date(Date.now() + 8 * DAY), policy: { keepDays: 30, keepBuilds: 50 }, dryRun: true });
      const fresh = await collectGarbage({ store, bus, deleteObjects: (p) => deletePrefix(s3.client, s3.bucket, p), listObjects: (p) => s3.store.list(p), workRoot: join(directory, 'work'), now: new Date(), policy: { keepDays: 30, keepBuilds: 50 } });
      const late = await collectGarbage({ store, bus, deleteObjects: (p) => deletePrefix(s3.client, s3.bucket, p), listObjects: (p) => s3.store.list(p), workRoot: join(directory, 'work'), now: new Date(Date.now() + 8 * DAY), policy: { keepDays: 30, keepBuilds: 50 } });
      const left: string[] = [];
      for await (const object of s3.store.list('')) left.push(object.key);
      // Assess
      expect(dry.cacheObjects).toHaveLength(2);
      expect(fresh.cacheObjects).toEqual([]);
      expect(late.cacheObjects.sort()).toEqual([`caches/o/r/main/npm/${hash}.home.tar`, `caches/o/r/main/npm/${hash}.json`]);
      expect(left).toEqual(['history/o/r/build.json']);
    } finally {
      await s3.close();
    }
  });
});
