/**
 * Two farms on one data directory (a `run` beside a `serve`) each have their own s3rver on the same
 * files, so the in-process KeyedLock cannot keep their PUTs of one key apart. Their renames (MD5,
 * metadata, object) could interleave and leave one's object under the other's metadata: a stamp
 * that never matches, so the key read back without its Content-Type until written again. A lock
 * file per key, across processes, keeps each PUT's renames together (s3rver-rename-lock.ts).
 */
import { DeleteObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { s3rverClientConfig } from '../../functions/adapters/local/s3rver-client.js';
import { PARTIAL_FOLDER } from '../../functions/adapters/local/s3rver-object-stamp.js';
import { renameLockPath } from '../../functions/adapters/local/s3rver-rename-lock.js';

let directory: string;
let first: EmbeddedS3;
let second: EmbeddedS3;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-two-writers-'));
  // The second reaches the directory through a symbolic link (as a container's bind mount might):
  // the lock must not depend on how each process spells the path.
  await symlink(directory, `${directory}-link`);
  first = await startEmbeddedS3(directory);
  second = await startEmbeddedS3(`${directory}-link`);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await rm(`${directory}-link`, { force: true });
  await rm(directory, { recursive: true, force: true });
});

const put = (server: EmbeddedS3, key: string, letter: string) =>
  server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: letter.repeat(1024), ContentType: `text/x-${letter}` }));

/** Rounds of two simultaneous PUTs (letters a and b), each key read back once both are answered: where its type is not its body's. */
async function mismatchesOver300Rounds(round: (n: number) => { key: string; puts: Promise<unknown>[] }): Promise<string[]> {
  const mismatched: string[] = [];
  for (let n = 0; n < 300; n++) {
    const { key, puts } = round(n);
    await Promise.all(puts);
    const head = await first.client.send(new HeadObjectCommand({ Bucket: first.bucket, Key: key }));
    const body = (await first.store.getText(key))!;
    if (head.ContentType !== `text/x-${body[0]}`) mismatched.push(`round ${n}: body ${body[0]}, type ${head.ContentType}`);
  }
  return mismatched;
}

describe('Embedded S3: two servers on one directory', () => {
  // The two rounds tests run side by side (their keys differ): each takes several seconds.
  it.concurrent('PUTs of one key from both leave a body and metadata of the same PUT', async () => {
    // Act: 300 rounds of simultaneous PUTs, each read back once both are answered
    const mismatched = await mismatchesOver300Rounds((round) => {
      const key = `history/octo/app/stage-${round % 5}.json`;
      return { key, puts: [put(first, key, 'a'), put(second, key, 'b')] };
    });

    // Assess
    expect(mismatched).toEqual([]);
  }, 120_000);

  it.concurrent('PUTs of two keys that s3rver stores in one file (a/./b and a/b) leave a body and metadata of the same PUT', async () => {
    // Act
    const mismatched = await mismatchesOver300Rounds((round) => {
      const key = `spelled/stage-${round % 5}.json`;
      return { key, puts: [put(first, key, 'a'), put(first, key.replace('/', '/./'), 'b')] };
    });

    // Assess
    expect(mismatched).toEqual([]);
  }, 120_000);

  it('a PUT waiting for another process\'s lock stores its object though a DELETE emptied and removed its folder meanwhile', async () => {
    // Prepare: one attempt only (the SDK's retries would hide a failed first answer); the folder's
    // only other key; another process holding the new key's lock
    const client = new S3Client({ ...s3rverClientConfig(first.endpoint), maxAttempts: 1 });
    const Bucket = first.bucket;
    await client.send(new PutObjectCommand({ Bucket, Key: 'builds/42/old.log', Body: 'old' }));
    const partial = join(directory, Bucket, PARTIAL_FOLDER);
    await mkdir(partial, { recursive: true });
    const lock = renameLockPath(partial, 'builds/42/new.log._S3rver_object');
    await writeFile(lock, 'another farm\'s token');

    // Act: the PUT waits for the lock; the DELETE removes the emptied folder meanwhile; then the other process lets go
    const put = client.send(new PutObjectCommand({ Bucket, Key: 'builds/42/new.log', Body: 'new' })).then(() => 'stored', (e: Error) => `${e.name}: ${e.message}`);
    await sleep(300);
    await client.send(new DeleteObjectCommand({ Bucket, Key: 'builds/42/old.log' }));
    await rm(lock);
    const outcome = await put;
    client.destroy();

    // Assess
    expect(outcome).toBe('stored');
    expect(await first.store.getText('builds/42/new.log')).toBe('new');
  }, 30_000);
});
