/**
 * A DELETE of a key takes the key's rename lock, as a PUT does (s3rver-safe-writes.ts). Between a
 * PUT's first rename (its `.md5`) and the next, a DELETE of the same key (another farm's garbage
 * collection, say) removed that file and then the emptied folder, and the PUT failed with a false
 * "disk" error.
 */
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// Mocked: only to run a DELETE at the one instant between two renames (a real race hits it rarely).
const hook = vi.hoisted(() => ({ afterMd5: undefined as undefined | (() => Promise<void>) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...real,
    rename: async (from: string, to: string) => {
      await real.rename(from, to);
      const after = hook.afterMd5;
      if (after !== undefined && to.endsWith('._S3rver_object.md5')) {
        hook.afterMd5 = undefined;
        await after();
      }
    },
  };
});

const { startEmbeddedS3 } = await import('../../functions/adapters/local/embedded-s3.js');
const { s3rverClientConfig } = await import('../../functions/adapters/local/s3rver-client.js');

let directory: string;
let s3: Awaited<ReturnType<typeof startEmbeddedS3>>;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-delete-during-put-'));
  s3 = await startEmbeddedS3(directory);
});

afterAll(async () => {
  await s3?.close();
  await rm(directory, { recursive: true, force: true });
});

describe('Embedded S3: a DELETE of a key while it is written', () => {
  it('waits for the PUT\'s renames, so the PUT is stored and then deleted, never failed', async () => {
    // Prepare: one attempt only (the SDK's retries would hide a failed first answer)
    const client = new S3Client({ ...s3rverClientConfig(s3.endpoint), maxAttempts: 1 });
    const Bucket = s3.bucket;
    const Key = 'builds/7/out.log';
    await client.send(new PutObjectCommand({ Bucket, Key, Body: 'old' }));
    let deleting: Promise<unknown> = Promise.resolve();
    hook.afterMd5 = async () => {
      deleting = client.send(new DeleteObjectCommand({ Bucket, Key }));
      await sleep(200);
    };

    // Act
    const outcome = await client.send(new PutObjectCommand({ Bucket, Key, Body: 'new' })).then(() => 'stored', (e: Error) => `${e.name}: ${e.message}`);
    await deleting;
    const after = await s3.store.getText(Key);
    client.destroy();

    // Assess
    expect(outcome).toBe('stored');
    expect(after).toBeUndefined();
  });
});
