/**
 * End to end: `buildfarm serve --demo` as `npm start` runs it, on a free
 * port, in a fresh data directory: the demo build goes from the farm's own
 * signed webhook through the bus, start-build and the real state machine to
 * its artifacts in the embedded S3 and its cost report on the bus.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildSummary } from '../../functions/local/build-record.js';
import type { BuildDetail } from '../../functions/local/build-service.js';
import type { BusMessage } from '../../functions/adapters/local/local-bus.js';
import { runServeToExit, startServe, type ServeProcess } from './support/serve-process.js';

const FINAL = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url);
  return (await response.json()) as T;
}

describe('buildfarm serve --demo (end to end)', { timeout: 180_000 }, () => {
  let directory: string;
  let serve: ServeProcess | undefined;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
  });

  afterAll(async () => {
    await serve?.stop('SIGKILL');
    await rm(directory, { recursive: true, force: true });
  });

  it('builds the example on first start: artifacts in the embedded S3, the cost report on the bus', async () => {
    // Act
    serve = await startServe(['--demo', '--port', '0', '--data-dir', directory]);
    await expect
      .poll(async () => (await getJson<BuildSummary[]>(`${serve!.url}/api/builds`)).some((b) => FINAL.includes(b.status)), { timeout: 120_000, interval: 500 })
      .toBe(true);
    const [demo] = await getJson<BuildSummary[]>(`${serve.url}/api/builds`);
    const detail = await getJson<BuildDetail>(`${serve.url}/api/builds/${demo.id}`);
    // Assess: the build, with a Lambda stage and a Fargate stage.
    expect(detail.status, serve.output()).toBe('succeeded');
    expect(detail.repository).toBe('buildfarm-demo/hello-farm');
    const runners = new Set(detail.report!.stages.map((s) => s.runner));
    expect([...runners].sort()).toEqual(['fargate', 'lambda']);
    // Every artifact the report lists is in the embedded S3, byte for byte.
    const s3 = new S3Client({
      endpoint: serve.s3Endpoint, region: 'us-east-1', forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED',
    });
    const artifacts = detail.report!.stages.flatMap((stage) => stage.artifacts.map((artifact) => ({ stage: stage.name, ...artifact })));
    expect(artifacts.map((a) => a.path)).toEqual(expect.arrayContaining(['release/hello-farm.tar.gz']));
    for (const artifact of artifacts) {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'buildfarm-local', Key: `builds/${demo.id}/stages/${artifact.stage}/artifacts/${artifact.path}` }));
      const bytes = Buffer.from(await object.Body!.transformToByteArray());
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    }
    s3.destroy();
    // The cost report went out on the BuildReports topic of the local bus.
    const reports = await getJson<BusMessage[]>(`${serve.url}/api/messages?topic=BuildReports`);
    const published = reports.find((m) => m.message.includes(demo.id));
    expect(published).toBeDefined();
    expect(detail.reportMessage?.messageId).toBe(published!.messageId);
    // ...and the terminal showed it stage by stage.
    for (const stage of detail.report!.stages) expect(serve.output()).toContain(stage.name);
  });

  it('stops cleanly on Ctrl-C and keeps the build across a restart without building the demo again', async () => {
    // Prepare
    const before = await getJson<BuildSummary[]>(`${serve!.url}/api/builds`);
    // Act
    const code = await serve!.stop('SIGINT');
    serve = await startServe(['--demo', '--port', '0', '--data-dir', directory]);
    const after = await getJson<BuildSummary[]>(`${serve.url}/api/builds`);
    // Assess
    expect(code).toBe(0);
    expect(after).toEqual(before);
    expect(serve.output()).toContain('demo: already built');
    await serve.stop('SIGINT');
  });
});

describe('buildfarm serve (clear errors)', () => {
  it('says so when the port is in use', async () => {
    // Prepare
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    // Act
    const result = await runServeToExit(['--port', String(port), '--data-dir', directory]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain(`port ${port} on 127.0.0.1 is already in use`);
    expect(result.output).not.toMatch(/\n\s+at /);
    blocker.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('says so when git is missing', async () => {
    // Prepare: a PATH with node but without git.
    const directory = await mkdtemp(join(tmpdir(), 'buildfarm-serve-'));
    // Act
    const result = await runServeToExit(['--port', '0', '--data-dir', directory], { PATH: directory });
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('git is not installed');
    await rm(directory, { recursive: true, force: true });
  });

  it('rejects a --repo that is not OWNER/NAME=PATH', async () => {
    // Act
    const result = await runServeToExit(['--repo', 'just-a-name', '--port', '0']);
    // Assess
    expect(result.code).toBe(1);
    expect(result.output).toContain('--repo: "just-a-name" is not OWNER/NAME=PATH');
  });
});
