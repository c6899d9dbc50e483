/**
 * CopyObject on the local farm's s3rver goes through the same one-version read and safe write as a
 * GET and a PUT (s3rver-safe-copy.ts). s3rver 3.7 copied the files in place, with the source's
 * metadata file stamped for the source's object file: the copy then lost its Content-Type and user
 * metadata (the first test fails on s3rver's own copy).
 */
import { CopyObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';

let directory: string;
let s3: EmbeddedS3 | undefined;

afterEach(async () => {
  await s3?.close();
  s3 = undefined;
  await rm(directory, { recursive: true, force: true });
});

async function open(): Promise<EmbeddedS3> {
  directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-copy-'));
  s3 = await startEmbeddedS3(directory);
  return s3;
}

const put = (server: EmbeddedS3, key: string, body: Buffer | string, type = 'text/plain') =>
  server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: body, ContentType: type, Metadata: { owner: 'octo' } }));

const copy = (server: EmbeddedS3, from: string, to: string, replace?: { type: string }) =>
  server.client.send(new CopyObjectCommand({
    Bucket: server.bucket,
    Key: to,
    CopySource: `${server.bucket}/${from}`,
    ...(replace ? { MetadataDirective: 'REPLACE' as const, ContentType: replace.type, Metadata: { owner: 'hubot' } } : {}),
  }));

describe('Embedded S3: copying an object', () => {
  it('keeps the source\'s body, ETag, Content-Type and user metadata on the copy', async () => {
    // Prepare
    const server = await open();
    await put(server, 'reports/a.json', '{"status":"passed"}', 'application/json');

    // Act
    const copied = await copy(server, 'reports/a.json', 'reports/b.json');
    const head = await server.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'reports/b.json' }));
    const source = await server.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'reports/a.json' }));
    const body = await server.store.getText('reports/b.json');

    // Assess
    expect(body).toBe('{"status":"passed"}');
    expect(head.ContentType).toBe('application/json');
    expect(head.Metadata).toEqual({ owner: 'octo' });
    expect(head.ETag).toBe(source.ETag);
    expect(copied.CopyObjectResult?.ETag).toBe(source.ETag);
  });

  it('replaces the metadata when asked to, on a copy of the key onto itself', async () => {
    // Prepare
    const server = await open();
    await put(server, 'logs/build.txt', 'line\n');

    // Act
    await copy(server, 'logs/build.txt', 'logs/build.txt', { type: 'text/x-log' });
    const head = await server.client.send(new HeadObjectCommand({ Bucket: server.bucket, Key: 'logs/build.txt' }));
    const body = await server.store.getText('logs/build.txt');

    // Assess
    expect(body).toBe('line\n');
    expect(head.ContentType).toBe('text/x-log');
    expect(head.Metadata).toEqual({ owner: 'hubot' });
  });

  it('answers NoSuchKey for a source that is not there', async () => {
    // Prepare
    const server = await open();

    // Act
    const error = await copy(server, 'absent', 'elsewhere').then(() => undefined, (e: Error) => e);

    // Assess
    expect(error?.name).toBe('NoSuchKey');
  });
});
