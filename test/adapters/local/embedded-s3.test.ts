import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3 } from '../../../functions/adapters/local/embedded-s3.js';

describe('Function: startEmbeddedS3', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'embedded-s3-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('serves the S3 protocol on 127.0.0.1 and keeps objects across a restart', async () => {
    // Prepare
    const first = await startEmbeddedS3(directory);
    await first.store.put('builds/b1/stages/build/artifacts/dist/hello.txt', 'Hello, farm!\n', 'text/plain');
    await first.close();
    // Act
    const second = await startEmbeddedS3(directory);
    const text = await second.store.getText('builds/b1/stages/build/artifacts/dist/hello.txt');
    const listed = [];
    for await (const object of second.store.list('builds/b1/')) listed.push(object);
    await second.close();
    // Assess
    expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toBe('Hello, farm!\n');
    expect(listed).toEqual([{ key: 'builds/b1/stages/build/artifacts/dist/hello.txt', size: 13, lastModified: expect.any(Date), etag: '"7e578b9daf8b2696204a15d801742e75"' }]);
  });

  it('answers a suffix range (bytes=-N) with the last N bytes, as S3 does (s3rver 3.7 gave the first N + 1)', async () => {
    // Prepare
    const s3 = await startEmbeddedS3(directory);
    const key = 'builds/b1/stages/build/log.txt';
    await s3.store.put(key, '0123456789abcdefghij', 'text/plain');
    const text = async (range: { suffix: number }) => {
      const read = await s3.store.read!(key, range);
      if (read === undefined || read === 'unsatisfiable') return read;
      const chunks: Buffer[] = [];
      for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Buffer));
      return { text: Buffer.concat(chunks).toString(), range: read.range, total: read.total };
    };
    // Act
    const last = await text({ suffix: 5 });
    const more = await text({ suffix: 50 });
    const absent = await s3.store.read!('builds/none', { suffix: 5 });
    await s3.close();
    // Assess
    expect(last).toEqual({ text: 'fghij', range: { start: 15, end: 19 }, total: 20 });
    expect(more).toEqual({ text: '0123456789abcdefghij', range: { start: 0, end: 19 }, total: 20 });
    expect(absent).toBeUndefined();
  });

  it('closes the object file of a GET it answers 304 Not Modified, rather than leaving it to garbage collection', async () => {
    // Prepare
    const s3 = await startEmbeddedS3(directory);
    const key = 'builds/b1/stages/build/log.txt';
    await s3.store.put(key, 'line\n'.repeat(1000), 'text/plain');
    const { ETag } = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }));
    const openOnObject = async () => {
      const links = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
      return links.filter((link) => link.includes('log.txt._S3rver_object')).length;
    };
    const status = (request: Promise<unknown>) => request.then(() => 200, (error: { $metadata?: { httpStatusCode?: number } }) => error.$metadata?.httpStatusCode);

    // Act
    const answers = [];
    for (let i = 0; i < 5; i++) {
      answers.push(await status(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, IfNoneMatch: ETag }))));
      answers.push(await status(s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, IfModifiedSince: new Date(Date.now() + 60_000) }))));
    }
    const stillOpen = await openOnObject();
    await s3.close();

    // Assess
    expect(answers).toEqual(Array(10).fill(304));
    expect(stillOpen).toBe(0);
  });

  it('answers reads of an empty object as S3 does: whole for a suffix range, InvalidRange for any other range, never a hang', async () => {
    // Prepare: an empty stage log (s3rver 3.7 answered a range of it 206 with Content-Length 1 and no body)
    const s3 = await startEmbeddedS3(directory);
    const key = 'builds/b1/stages/quiet/log.txt';
    await s3.store.put(key, '', 'text/plain');
    const answer = async (range?: string) => {
      try {
        const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key, Range: range }), { abortSignal: AbortSignal.timeout(5_000) });
        const text = await response.Body!.transformToString();
        return { status: response.$metadata.httpStatusCode, text, contentRange: response.ContentRange };
      } catch (error) {
        return { status: (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, error: (error as Error).name };
      }
    };

    // Act
    const whole = await answer();
    const suffix = await answer('bytes=-5');
    const fromStart = await answer('bytes=0-');
    const firstByte = await answer('bytes=0-0');
    const tail = await s3.store.read!(key, { suffix: 65_536 });
    await s3.close();

    // Assess (RFC 9110 14.1.2: an empty representation satisfies only a suffix range; S3 answers InvalidRange otherwise)
    expect(whole).toEqual({ status: 200, text: '', contentRange: undefined });
    expect(suffix).toEqual({ status: 200, text: '', contentRange: undefined });
    expect(fromStart).toEqual({ status: 416, error: 'InvalidRange' });
    expect(firstByte).toEqual({ status: 416, error: 'InvalidRange' });
    expect(tail).toMatchObject({ length: 0, total: 0 });
  });
});
