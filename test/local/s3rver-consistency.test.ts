/**
 * What a GET of the local farm's s3rver answers is one version of the object: its whole body, its
 * ETag and its Content-Type together (S3's strong read-after-write consistency). Stock s3rver
 * stats the object, reads its `.md5` and metadata, then opens the file again by name, and keeps
 * the three as separate files; so a GET during an overwrite could serve one version's body cut to
 * the other's length under the other's ETag, and two overlapping PUTs of a key could leave one
 * version's ETag on the other's body for good (s3rver-consistent-reads.ts, s3rver-safe-writes.ts).
 */
import { CreateMultipartUploadCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { PARTIAL_FOLDER } from '../../functions/adapters/local/s3rver-object-stamp.js';

let directory: string | undefined;
let s3: EmbeddedS3 | undefined;

afterEach(async () => {
  await s3?.close();
  s3 = undefined;
  if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  directory = undefined;
});

async function open(): Promise<EmbeddedS3> {
  directory ??= await mkdtemp(join(tmpdir(), 'bf-s3rver-consistency-'));
  s3 = await startEmbeddedS3(directory);
  return s3;
}

/** Two versions of one key that differ in length, body and type. */
const VERSIONS = {
  long: { body: Buffer.alloc(200_000, 'a'), type: 'application/x-long' },
  short: { body: Buffer.alloc(1_000, 'b'), type: 'text/x-short' },
} as const;
type Version = keyof typeof VERSIONS;

const md5 = (body: Buffer) => createHash('md5').update(body).digest('hex');

const put = (server: EmbeddedS3, key: string, version: Version) =>
  server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: VERSIONS[version].body, ContentType: VERSIONS[version].type }));

/** 'long' or 'short' when body, ETag and type all belong to that version; otherwise what is wrong. */
async function readVersion(server: EmbeddedS3, key: string): Promise<string> {
  try {
    const answer = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
    const body = Buffer.from(await answer.Body!.transformToByteArray());
    const version = (Object.keys(VERSIONS) as Version[]).find((name) => VERSIONS[name].body.equals(body));
    if (version === undefined) return `torn body of ${body.length} bytes`;
    if (answer.ETag !== `"${md5(body)}"`) return `${version} body under another ETag`;
    if (answer.ContentType !== VERSIONS[version].type) return `${version} body typed ${answer.ContentType}`;
    return version;
  } catch (error) {
    return `error ${(error as Error).name}: ${(error as Error).message}`;
  }
}

/** What three readers saw, each reading `key` again and again while one writer puts its two versions in turn 60 times. */
async function readWhileAlternating(server: EmbeddedS3, key: string, read: () => Promise<string>): Promise<string[]> {
  let writing = true;
  const writer = (async () => {
    for (let i = 0; i < 60; i++) await put(server, key, i % 2 === 0 ? 'short' : 'long');
    writing = false;
  })();
  const reader = async () => {
    const seen: string[] = [];
    while (writing) seen.push(await read());
    return seen;
  };
  const [first, second, third] = await Promise.all([reader(), reader(), reader(), writer]);
  return [...first, ...second, ...third];
}

describe('Embedded S3: one version per answer', () => {
  it('a GET while a key alternates between a long and a short version gets one whole version', async () => {
    // Prepare
    const server = await open();
    const key = 'history/acme/api/build.json';
    await put(server, key, 'long');

    // Act: one writer alternates the versions while three readers read
    const seen = await readWhileAlternating(server, key, () => readVersion(server, key));

    // Assess
    expect(seen.length).toBeGreaterThan(30);
    expect(seen.filter((answer) => answer !== 'long' && answer !== 'short')).toEqual([]);
  });

  it('a suffix range (the last N bytes) while a key alternates answers the tail of one version, range and total of that version', async () => {
    // Prepare: the size used to be looked up before the file was opened, so an overwrite between
    // the two gave a long version whole, or refused a short one's range as unsatisfiable
    const server = await open();
    const key = 'builds/b1/stages/test/log.txt';
    await put(server, key, 'long');
    const tail = 5_000;
    const expected = (version: Version) => {
      const body = VERSIONS[version].body;
      const start = Math.max(0, body.length - tail);
      return { body: body.subarray(start), range: `bytes ${start}-${body.length - 1}/${body.length}` };
    };
    const readTail = async (): Promise<string> => {
      try {
        const answer = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key, Range: `bytes=-${tail}` }));
        const body = Buffer.from(await answer.Body!.transformToByteArray());
        const version = (Object.keys(VERSIONS) as Version[]).find((name) => expected(name).body.equals(body));
        if (version === undefined) return `${body.length} bytes, not a tail of either version (${answer.ContentRange})`;
        return answer.ContentRange === expected(version).range ? version : `${version} tail labelled ${answer.ContentRange}`;
      } catch (error) {
        return `error ${(error as Error).name}`;
      }
    };

    // Act
    const seen = await readWhileAlternating(server, key, readTail);

    // Assess
    expect(seen.length).toBeGreaterThan(30);
    expect(seen.filter((answer) => answer !== 'long' && answer !== 'short')).toEqual([]);
  });

  it('after overlapping PUTs of a key, its body, ETag and type are those of one of them', async () => {
    // Prepare
    const server = await open();
    const key = 'status/acme/api.json';

    // Act + Assess
    const outcomes: string[] = [];
    for (let i = 0; i < 150; i++) {
      await Promise.all([put(server, key, 'long'), put(server, key, 'short'), put(server, key, 'long'), put(server, key, 'short')]);
      outcomes.push(await readVersion(server, key));
    }
    expect(outcomes.filter((answer) => answer !== 'long' && answer !== 'short')).toEqual([]);
  });

  it('a key whose write stopped between its metadata and its object still answers its ETag and body together', async () => {
    // Prepare: a version written, then the `.md5` and metadata of another version put beside it
    // by hand, as a farm killed between its renames leaves them
    const server = await open();
    const key = 'logs/b1/test.log';
    await put(server, key, 'long');
    const metadataFile = join(directory!, server.bucket, 'logs', 'b1', 'test.log._S3rver_metadata.json');
    await writeFile(metadataFile, JSON.stringify({ 'content-type': 'text/x-short', 'x-buildfarm-object': '1:1000:0', 'x-buildfarm-md5': md5(VERSIONS.short.body) }));
    await writeFile(metadataFile.replace('_S3rver_metadata.json', '_S3rver_object.md5'), md5(VERSIONS.short.body));

    // Act
    const answer = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
    const body = Buffer.from(await answer.Body!.transformToByteArray());

    // Assess: the body is the object on disk, the ETag is that body's, and the other version's type is not claimed
    expect(body.equals(VERSIONS.long.body)).toBe(true);
    expect(answer.ETag).toBe(`"${md5(VERSIONS.long.body)}"`);
    expect(answer.ContentType).toBe('binary/octet-stream');
  });

  it('a start sweeps writes left unfinished by a farm that stopped, and keeps ones still under way', async () => {
    // Prepare: a farm that was killed mid-upload left an old partial file; another farm on the
    // same directory is writing a fresh one now
    directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-consistency-'));
    const staging = join(directory, 'buildfarm-local', PARTIAL_FOLDER);
    await mkdir(staging, { recursive: true });
    const dead = '0f0e0d0c-0b0a-4909-8807-060504030201.object';
    const live = '1f0e0d0c-0b0a-4909-8807-060504030201.object';
    await writeFile(join(staging, dead), 'x'.repeat(1000));
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    await utimes(join(staging, dead), twoHoursAgo, twoHoursAgo);
    await writeFile(join(staging, live), 'y');

    // Act
    const server = await open();
    await put(server, 'after/start.txt', 'short');

    // Assess
    expect(await readdir(staging)).toEqual([live]);
    expect(await readVersion(server, 'after/start.txt')).toBe('short');
  });

  it('a start keeps an object under the partial folder (stored before such keys were refused), however old', async () => {
    // Prepare: an object's three files in the partial folder two hours ago, and a lock a killed farm left then
    directory = await mkdtemp(join(tmpdir(), 'bf-s3rver-consistency-'));
    const staging = join(directory, 'buildfarm-local', PARTIAL_FOLDER);
    await mkdir(staging, { recursive: true });
    const kept = ['notes.txt._S3rver_object', 'notes.txt._S3rver_object.md5', 'notes.txt._S3rver_metadata.json'];
    for (const name of kept) await writeFile(join(staging, name), name.endsWith('object') ? 'keep me' : '{}');
    const lock = `lock-${'a'.repeat(40)}`;
    await writeFile(join(staging, lock), '');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    for (const name of await readdir(staging)) await utimes(join(staging, name), twoHoursAgo, twoHoursAgo);

    // Act
    await open();

    // Assess
    expect((await readdir(staging)).sort()).toEqual([...kept].sort());
  });

  it('refuses a PUT or an upload under the partial folder: those names are the farm\'s own', async () => {
    // Prepare
    const server = await open();
    const status = (request: Promise<unknown>) => request.then(() => 'stored', (error: Error & { $metadata?: { httpStatusCode?: number } }) => `${error.$metadata?.httpStatusCode} ${error.name}`);

    // Act
    const refusedPut = await status(put(server, `${PARTIAL_FOLDER}/lock-${'b'.repeat(40)}/x`, 'short'));
    const upload = await status(server.client.send(new CreateMultipartUploadCommand({ Bucket: server.bucket, Key: `${PARTIAL_FOLDER}/big` })));
    const dotted = await status(put(server, `logs/../${PARTIAL_FOLDER}/x`, 'short'));

    // Assess
    expect(refusedPut).toBe('400 InvalidArgument');
    expect(upload).toBe('400 InvalidArgument');
    expect(dotted).toBe('400 InvalidArgument');
  });

  it('refuses a key that has no place in s3rver\'s layout (a folder on its path is another key\'s file) as the key\'s fault, leaving no partial files', async () => {
    // Prepare: key `a` is the file `a._S3rver_object`
    const server = await open();
    await put(server, 'a', 'short');

    // Act
    const answer = await server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key: 'a._S3rver_object/b', Body: 'b' })).then(
      () => 'stored',
      (error: Error & { $metadata?: { httpStatusCode?: number } }) => `${error.$metadata?.httpStatusCode} ${error.name}: ${error.message}`,
    );

    // Assess
    expect(answer).toMatch(/^400 InvalidArgument: key a\._S3rver_object\/b: a folder on its path is a file in the local farm's S3/);
    expect(await readdir(join(directory!, server.bucket, PARTIAL_FOLDER))).toEqual([]);
  });
});
