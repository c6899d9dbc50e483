/**
 * The resumable-read cases, run against any S3 server (s3rver, moto_server) behind the
 * body-cut proxy: the store reads through the proxy, the test writes and checks directly.
 * Each server's own test file (test/adapters/aws/resumable-get*.test.ts) starts it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HeadObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_RESUMES } from '../../functions/adapters/aws/resumable-body.js';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { cacheScopeFor } from '../../functions/domain/cache/scope.js';
import type { CacheSpec } from '../../functions/domain/pipeline/types.js';
import { artifactArchiveKey, manifestKey, sourceKey } from '../../functions/domain/storage-keys.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import { StageCache } from '../../functions/runner/cache/stage-cache.js';
import { uploadArtifacts } from '../../functions/runner/artifacts.js';
import { prepareWorkspace } from '../../functions/runner/workspace.js';
import { startBodyCutProxy, type BodyCutProxy, type ProxiedRequest } from './body-cut-proxy.js';
import { makeTarGz } from './tarballs.js';

export interface S3UnderTest {
  bucket: string;
  /** An S3 client config for `endpoint` (the proxy's, or the server's own). */
  config(endpoint: string): S3ClientConfig;
  endpoint: string;
  /** The server answers a GET whose If-Match fails with 412 (S3, moto); s3rver 3.7 ignores it. */
  refusesStaleIfMatch: boolean;
  stop(): Promise<void>;
}

/** Short timeouts for the stall cases (the runner's are 10 s and 60 s: s3-http-timeouts.ts). */
const STALL_HANDLER = { connectionTimeout: 1_000, socketTimeout: 400 };

/**
 * A stalled read must end well before a hang would (the test's 60 s): about 1-3 s on an idle
 * machine, 5-7 s at a load of 17 on two cores (measured), so the bound leaves room for load.
 */
const STALL_BOUND_MS = 20_000;

async function readAll(body: Readable | undefined): Promise<Buffer> {
  if (body === undefined) throw new Error('no object');
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const gets = (key: string) => (request: ProxiedRequest) => request.method === 'GET' && request.path.split('?')[0]!.endsWith(`/${key}`);

export function describeResumableReads(server: string, start: () => Promise<S3UnderTest>): void {
  describe(`Class: S3ArtifactStore > Method: get, a body cut mid-way (${server})`, () => {
    let s3: S3UnderTest;
    let proxy: BodyCutProxy;
    let direct: S3ArtifactStore;
    let directClient: S3Client;
    const clients: S3Client[] = [];
    let dir: string;
    const through = (handler?: typeof STALL_HANDLER, extra: S3ClientConfig = {}) => {
      const client = new S3Client({ ...s3.config(proxy.endpoint), ...(handler ? { requestHandler: handler } : {}), ...extra });
      clients.push(client);
      return new S3ArtifactStore(client, s3.bucket);
    };
    const etagOf = async (key: string) => (await directClient.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: key }))).ETag;

    beforeAll(async () => {
      s3 = await start();
      proxy = await startBodyCutProxy(s3.endpoint);
      directClient = new S3Client(s3.config(s3.endpoint));
      direct = new S3ArtifactStore(directClient, s3.bucket);
      dir = await mkdtemp(join(tmpdir(), 'resumable-'));
    }, 120_000);
    afterEach(() => proxy.clear());
    afterAll(async () => {
      for (const client of clients) client.destroy();
      directClient?.destroy();
      await proxy?.close();
      await s3?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('defends the workspace against cut downloads: a snapshot cut twice and an artifact archive reset once arrive byte-identical, resumed with Range and If-Match', async () => {
      // Prepare: a snapshot and an upstream stage's archive, both incompressible so their bodies are long
      const sourceBytes = randomBytes(300_000);
      await direct.put(sourceKey('b-1'), await makeTarGz([{ header: { name: 'repo-abc/src.bin', type: 'file', mode: 0o644, size: sourceBytes.length }, content: sourceBytes }]));
      const upstream = join(dir, 'upstream');
      await mkdir(upstream);
      const artifactBytes = randomBytes(200_000);
      await writeFile(join(upstream, 'out.bin'), artifactBytes);
      await direct.put(manifestKey('b-1', 'compile'), JSON.stringify(await uploadArtifacts(upstream, ['out.bin'], { buildId: 'b-1', stage: 'compile' }, direct)));
      proxy.breakNext(gets(sourceKey('b-1')), { kind: 'cut', afterBytes: 1_000 }, { kind: 'cut', afterBytes: 40_000 });
      proxy.breakNext(gets(artifactArchiveKey('b-1', 'compile')), { kind: 'cut', afterBytes: 3_000, reset: true });
      const workspace = join(dir, 'workspace');
      await mkdir(workspace);

      // Act
      await prepareWorkspace({ buildId: 'b-1', artifactsFrom: ['compile'], workspace, limitBytes: 10_000_000, limitIsDisk: true }, through(), { line: () => undefined });

      // Assess
      expect(await readFile(join(workspace, 'src.bin'))).toEqual(sourceBytes);
      expect(await readFile(join(workspace, 'out.bin'))).toEqual(artifactBytes);
      const snapshotReads = proxy.requests.filter(gets(sourceKey('b-1')));
      const etag = await etagOf(sourceKey('b-1'));
      expect(snapshotReads.map((r) => [r.range, r.ifMatch])).toEqual([[undefined, undefined], ['bytes=1000-', etag], ['bytes=41000-', etag]]);
      const archiveReads = proxy.requests.filter(gets(artifactArchiveKey('b-1', 'compile')));
      expect(archiveReads).toHaveLength(2);
      expect(archiveReads[1]!.range).toMatch(/^bytes=\d+-$/);
    });

    it('defends the cache restore against cut parts: the entry restores byte-identical, a hit and not a cold start', async () => {
      // Prepare: an entry saved directly; its part's download is cut twice on the way back
      const spec: CacheSpec = { paths: ['deps'], keyFiles: [], prefix: 'deps' };
      const scope = cacheScopeFor({ repository: 'octo/app', event: 'push', branch: 'main', fromFork: false });
      const [home, saving, restoring] = ['cache-home', 'cache-saving', 'cache-restoring'].map((name) => join(dir, name)) as [string, string, string];
      const bytes = randomBytes(150_000);
      await mkdir(join(saving, 'deps'), { recursive: true });
      await Promise.all([mkdir(home), mkdir(restoring)]);
      await writeFile(join(saving, 'deps/blob.bin'), bytes);
      const open = (workspace: string, store: ArtifactStore, lines: string[]) =>
        StageCache.open({ buildId: 'c-1', stage: { name: 's', cache: spec }, scope, roots: { home, workspace }, store, log: { line: (text) => lines.push(text) }, maxRestoreBytes: 1e9 });
      await (await open(saving, direct, []))!.save(Date.now() + 60_000, Date.now);
      const partGets = (request: ProxiedRequest) => request.method === 'GET' && request.path.includes('/caches/') && request.path.split('?')[0]!.endsWith('.tar');
      proxy.breakNext(partGets, { kind: 'cut', afterBytes: 2_000 }, { kind: 'cut', afterBytes: 10_000, reset: true });
      const lines: string[] = [];

      // Act
      const restored = await open(restoring, through(), lines);

      // Assess
      expect(restored!.report.result, lines.join('\n')).toBe('hit');
      expect(await readFile(join(restoring, 'deps/blob.bin'))).toEqual(bytes);
      expect(proxy.requests.filter(partGets)).toHaveLength(3);
    });

    it('defends against stitching two versions: an object replaced between the cut and the resume fails with ObjectChangedWhileRead naming the key', async () => {
      // Prepare: the resume request finds the object rewritten
      const key = 'changing/archive.bin';
      await direct.put(key, randomBytes(100_000));
      proxy.breakNext(gets(key), { kind: 'cut', afterBytes: 5_000 });
      proxy.onRequest(async (request) => {
        if (gets(key)(request) && request.range !== undefined) await direct.put(key, randomBytes(100_000));
      });
      const store = through();

      // Act
      const reading = readAll(await store.get(key));

      // Assess
      await expect(reading).rejects.toMatchObject({ name: 'ObjectChangedWhileRead', message: expect.stringContaining(key) });
      // Where the server refuses the stale ETag, the 412 says so; elsewhere the resumed answer's ETag gives it away.
      await expect(reading).rejects.toThrow(s3.refusesStaleIfMatch ? /no longer has ETag .*PreconditionFailed/ : /its ETag was .* and is now/);
      const resume = proxy.requests.filter(gets(key))[1]!;
      expect(resume.range).toBe('bytes=5000-');
      expect(resume.ifMatch).toMatch(/^"?[0-9a-f-]+"?$/);
    });

    it('defends against a server that goes silent mid-body: the socket idle timeout ends the wait and the read resumes from there', async () => {
      // Prepare
      const key = 'stall/once.bin';
      const bytes = randomBytes(150_000);
      await direct.put(key, bytes);
      proxy.breakNext(gets(key), { kind: 'stall', afterBytes: 2_000 });
      const started = Date.now();

      // Act
      const read = await readAll(await through(STALL_HANDLER).get(key));

      // Assess
      expect(read).toEqual(bytes);
      expect(proxy.requests.filter(gets(key)).map((r) => r.range)).toEqual([undefined, 'bytes=2000-']);
      expect(Date.now() - started).toBeLessThan(STALL_BOUND_MS);
    });

    it('defends against a server silent on every answer: a bounded number of resumes, then ObjectReadInterrupted naming the key, not a hang', async () => {
      // Prepare
      const key = 'stall/always.bin';
      await direct.put(key, randomBytes(150_000));
      proxy.breakAll(gets(key), { kind: 'stall', afterBytes: 1_000 });
      const started = Date.now();

      // Act
      const reading = readAll(await through(STALL_HANDLER).get(key));

      // Assess
      await expect(reading).rejects.toMatchObject({ name: 'ObjectReadInterrupted', message: expect.stringMatching(new RegExp(`${key}.*timed out`)) });
      expect(proxy.requests.filter(gets(key))).toHaveLength(1 + MAX_BODY_RESUMES);
      expect(Date.now() - started).toBeLessThan(STALL_BOUND_MS);
    });

    it('defends against a server silent before its headers: the SDK\'s socket timeout (as the runner sets it) fails the request after its attempts', async () => {
      // Prepare
      const key = 'stall/headers.bin';
      await direct.put(key, 'x');
      proxy.breakAll(gets(key), { kind: 'stall', beforeHeaders: true });
      const started = Date.now();

      // Act / Assess
      await expect(through(STALL_HANDLER, { maxAttempts: 2 }).get(key)).rejects.toMatchObject({ name: 'TimeoutError' });
      expect(proxy.requests.filter(gets(key))).toHaveLength(2);
      expect(Date.now() - started).toBeLessThan(STALL_BOUND_MS);
    });

    it('defends a slow but progressing body against the idle timeout: it arrives whole in one GET, longer than the timeout', async () => {
      // Prepare: 128 KiB at 16 KiB per 100 ms, about 0.8 s against a 0.4 s idle timeout
      const key = 'slow/progressing.bin';
      const bytes = randomBytes(128 * 1024);
      await direct.put(key, bytes);
      proxy.breakNext(gets(key), { kind: 'trickle', chunkBytes: 16 * 1024, everyMs: 100 });
      const started = Date.now();

      // Act
      const read = await readAll(await through(STALL_HANDLER).get(key));

      // Assess
      expect(read).toEqual(bytes);
      expect(Date.now() - started).toBeGreaterThan(STALL_HANDLER.socketTimeout);
      expect(proxy.requests.filter(gets(key))).toHaveLength(1);
    });
  });
}
