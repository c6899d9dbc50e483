/**
 * The local farm's s3rver replaces an object whole (s3rver-safe-writes.ts): S3 gives strong
 * read-after-write consistency, and a build's plan reads stage history while another build's
 * report rewrites it. Unpatched s3rver truncates the object file in place and answers the PUT
 * before it is written, so a GET meanwhile (or right after) reads part of it.
 */
import { CopyObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { PARTIAL_FOLDER } from '../../functions/adapters/local/s3rver-object-stamp.js';

const SIZE = 2 * 1024 * 1024;
let directory: string;
let s3: EmbeddedS3 | undefined;

afterEach(async () => {
  await s3?.close();
  s3 = undefined;
  await rm(directory, { recursive: true, force: true });
});

async function open(): Promise<EmbeddedS3> {
  directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-overwrite-'));
  s3 = await startEmbeddedS3(directory);
  return s3;
}

const put = (server: EmbeddedS3, key: string, letter: string) =>
  server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: Buffer.alloc(SIZE, letter) }));

async function get(server: EmbeddedS3, key: string): Promise<Buffer> {
  const answer = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
  return Buffer.from(await answer.Body!.transformToByteArray());
}

/** Which letter fills the whole body, or what is wrong with it. */
function wholeLetter(body: Buffer): string {
  if (body.length !== SIZE) return `${body.length} bytes`;
  const letter = String.fromCharCode(body[0]!);
  return body.equals(Buffer.alloc(SIZE, letter)) ? letter : 'mixed';
}

describe('Embedded S3: overwriting an object', () => {
  it('a GET while the key is rewritten reads the whole old object or the whole new one', async () => {
    // Prepare
    const server = await open();
    await put(server, 'history/acme/api/test.json', 'a');

    // Act: rewrite it 20 times while reading it
    const seen: string[] = [];
    let writing = true;
    const writes = (async () => {
      for (let i = 0; i < 20; i++) await put(server, 'history/acme/api/test.json', i % 2 === 0 ? 'b' : 'a');
      writing = false;
    })();
    while (writing) seen.push(wholeLetter(await get(server, 'history/acme/api/test.json')));
    await writes;

    // Assess
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.filter((letter) => letter !== 'a' && letter !== 'b')).toEqual([]);
  });

  it('a GET right after a PUT reads what the PUT wrote', async () => {
    // Prepare
    const server = await open();

    // Act + Assess
    for (const letter of ['a', 'b', 'c', 'd', 'e', 'f']) {
      await put(server, 'status.json', letter);
      expect(wholeLetter(await get(server, 'status.json'))).toBe(letter);
    }
  });

  it('leaves no temporary file behind, and lists only whole objects', async () => {
    // Prepare
    const server = await open();

    // Act
    await Promise.all(['x', 'y', 'z'].map((letter) => put(server, `k/${letter}`, letter)));
    const listed = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'k/' }));

    // Assess
    expect(listed.Contents?.map((o) => [o.Key, o.Size])).toEqual([['k/x', SIZE], ['k/y', SIZE], ['k/z', SIZE]]);
    expect(await readdir(join(directory, server.bucket, PARTIAL_FOLDER))).toEqual([]);
  });
});

/**
 * CopyObject goes through the same one-version read and safe write as a GET and a PUT
 * (s3rver-safe-copy.ts). s3rver 3.7 copied the files in place, with the source's metadata file
 * stamped for the source's object file: the copy lost its Content-Type and user metadata (the
 * first test fails on s3rver's own copy).
 */
const putTyped = (server: EmbeddedS3, key: string, body: Buffer | string, type = 'text/plain') =>
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
    await putTyped(server, 'reports/a.json', '{"status":"passed"}', 'application/json');

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
    await putTyped(server, 'logs/build.txt', 'line\n');

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
