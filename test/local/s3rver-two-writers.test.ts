/**
 * Two farms on one data directory (a `run` beside a `serve`) each have their own s3rver on the same
 * files, so the in-process KeyedLock cannot keep their PUTs of one key apart. Their renames (MD5,
 * metadata, object) could interleave and leave one's object under the other's metadata: a stamp
 * that never matches, so the key read back without its Content-Type until written again. A lock
 * file per key, across processes, keeps each PUT's renames together (s3rver-rename-lock.ts).
 */
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';

let directory: string;
let first: EmbeddedS3;
let second: EmbeddedS3;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-two-writers-'));
  first = await startEmbeddedS3(directory);
  second = await startEmbeddedS3(directory);
});

afterAll(async () => {
  await first?.close();
  await second?.close();
  await rm(directory, { recursive: true, force: true });
});

const put = (server: EmbeddedS3, key: string, letter: string) =>
  server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: letter.repeat(1024), ContentType: `text/x-${letter}` }));

describe('Embedded S3: two servers on one directory', () => {
  it('PUTs of one key from both leave a body and metadata of the same PUT', async () => {
    // Prepare
    const mismatched: string[] = [];

    // Act: 300 rounds of simultaneous PUTs, each read back once both are answered
    for (let round = 0; round < 300; round++) {
      const key = `history/octo/app/stage-${round % 5}.json`;
      await Promise.all([put(first, key, 'a'), put(second, key, 'b')]);
      const head = await first.client.send(new HeadObjectCommand({ Bucket: first.bucket, Key: key }));
      const body = (await first.store.getText(key))!;
      if (head.ContentType !== `text/x-${body[0]}`) mismatched.push(`round ${round}: body ${body[0]}, type ${head.ContentType}`);
    }

    // Assess
    expect(mismatched).toEqual([]);
  }, 120_000);

  it('PUTs of two keys that s3rver stores in one file (a/./b and a/b) leave a body and metadata of the same PUT', async () => {
    // Prepare
    const mismatched: string[] = [];

    // Act
    for (let round = 0; round < 300; round++) {
      const key = `spelled/stage-${round % 5}.json`;
      await Promise.all([put(first, key, 'a'), put(first, key.replace('/', '/./'), 'b')]);
      const head = await first.client.send(new HeadObjectCommand({ Bucket: first.bucket, Key: key }));
      const body = (await first.store.getText(key))!;
      if (head.ContentType !== `text/x-${body[0]}`) mismatched.push(`round ${round}: body ${body[0]}, type ${head.ContentType}`);
    }

    // Assess
    expect(mismatched).toEqual([]);
  }, 120_000);
});
