/**
 * The Plan task's snapshot step (plan-snapshot.ts): a small snapshot is stored and searched for
 * the pipeline file from the same bytes (no GET back); a big one streams into the store and is
 * read back; either way the stored object is the snapshot, byte for byte. Against s3rver.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { holdIfSmall, readPipelineWhileStoringSnapshot } from '../../functions/handlers/plan-snapshot.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';

let s3: RunningS3rver;
beforeAll(async () => {
  s3 = await startS3rver();
});
afterAll(async () => s3.stop());

/** A gzip tarball as GitHub's has it: one top folder, then the files. */
async function tarball(files: Record<string, Buffer | string>): Promise<Buffer> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name: `repo-abc/${name}` }, content);
  archive.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of archive.pipe(createGzip())) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const storedBytes = async (store: S3ArtifactStore, key: string) => Buffer.concat((await (await store.get(key))!.toArray()) as Buffer[]);
const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const chunked = (data: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));

/** The pipeline file's text once the snapshot is stored too, as the Plan task waits for both. */
async function storeSnapshotAndReadPipeline(store: Parameters<typeof readPipelineWhileStoringSnapshot>[0], key: string, snapshot: Readable): Promise<string> {
  const { pipelineText, stored } = await readPipelineWhileStoringSnapshot(store, key, snapshot);
  await stored;
  return pipelineText;
}

describe('Function: readPipelineWhileStoringSnapshot', () => {
  it('stores a small snapshot and finds the pipeline file without reading the snapshot back', async () => {
    // Prepare
    const snapshot = await tarball({ '.buildfarm.yml': 'version: 1\n', 'src/a.js': 'a' });
    const gets: string[] = [];
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    const watched = Object.assign(Object.create(store) as S3ArtifactStore, { get: async (key: string) => (gets.push(key), store.get(key)) });
    // Act
    const text = await storeSnapshotAndReadPipeline(watched, 'builds/b1/source.tar.gz', chunked(snapshot, 1000));
    // Assess
    expect(text).toBe('version: 1\n');
    expect(gets).toEqual([]);
    expect(sha(await storedBytes(store, 'builds/b1/source.tar.gz'))).toBe(sha(snapshot));
  });

  it('streams a snapshot bigger than it holds into the store, whole, and reads the file back from there', async () => {
    // Prepare: 9 MiB of incompressible content, so the gzip is past the 8 MiB held in memory
    const snapshot = await tarball({ 'big.bin': randomBytes(9 * 1024 * 1024), '.buildfarm.yml': 'version: 1\nstages: {}\n' });
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    // Act
    const text = await storeSnapshotAndReadPipeline(store, 'builds/b2/source.tar.gz', chunked(snapshot, 64 * 1024));
    // Assess
    expect(text).toBe('version: 1\nstages: {}\n');
    expect(sha(await storedBytes(store, 'builds/b2/source.tar.gz'))).toBe(sha(snapshot));
  });

  it('says the repository has no pipeline file, once the snapshot is stored', async () => {
    // Prepare
    const snapshot = await tarball({ 'README.md': 'no pipeline here' });
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    // Act
    const outcome = await storeSnapshotAndReadPipeline(store, 'builds/b3/source.tar.gz', Readable.from([snapshot])).catch((error: Error) => error);
    // Assess
    expect(outcome).toMatchObject({ name: 'PipelineInvalid' });
    expect((outcome as Error).message).toContain('no .buildfarm.yml at the root of the repository');
    expect(await store.getText('builds/b3/source.tar.gz')).toBeDefined();
  });
});

describe('Function: holdIfSmall', () => {
  it('gives the whole stream as one buffer within the limit, else a stream of all of it, in order', async () => {
    const data = randomBytes(10_000);
    const small = await holdIfSmall(chunked(data, 333), 10_000);
    expect(Buffer.isBuffer(small) && sha(small)).toBe(sha(data));
    const big = await holdIfSmall(chunked(data, 333), 1_000);
    expect(Buffer.isBuffer(big)).toBe(false);
    expect(sha(Buffer.concat((await (big as Readable).toArray()) as Buffer[]))).toBe(sha(data));
  });
});

describe('Function: holdIfSmall, when the reader gives up', () => {
  it('closes the source stream when the stream it gave is destroyed', async () => {
    // Prepare: a source past the limit
    const source = chunked(randomBytes(10_000), 1_000);
    const held = (await holdIfSmall(source, 1_000)) as Readable;
    // Act: read a little, then give up (as an upload that failed does)
    for await (const _chunk of held) break;
    // Assess
    await expect.poll(() => source.destroyed).toBe(true);
  });
});
