import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HELPER_BOOTSTRAP_JS } from '../../../functions/domain/fargate/bootstrap.js';

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** SHA-256 for the SDK's signer, from node:crypto. */
class NodeSha256 {
  private readonly hash;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret ? createHmac('sha256', toBytes(secret)) : createHash('sha256');
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

const credentials = { AccessKeyId: 'ASIAEXAMPLEKEY', SecretAccessKey: 'secret/Example+Key', Token: 'session-token==' };
const helperSource = 'require("node:fs").writeFileSync(process.env.MARKER_FILE, "helper ran");';

interface Captured {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

let server: Server;
let port: number;
let captured: Captured[];
let dir: string;
const children = new Set<ChildProcess>();

beforeEach(async () => {
  captured = [];
  dir = await mkdtemp(join(tmpdir(), 'bootstrap-'));
  server = createServer((req, res) => {
    captured.push({ method: req.method!, url: req.url!, headers: req.headers });
    if (req.url === '/creds') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(credentials));
      return;
    }
    res.end(helperSource);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  // A bootstrap still waiting (a test that timed out) must not outlive it.
  for (const child of children) child.kill('SIGKILL');
  children.clear();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

function runBootstrap(extraEnv: Record<string, string> = {}): Promise<number> {
  const child = spawn(process.execPath, ['-e', HELPER_BOOTSTRAP_JS], {
    env: {
      ...extraEnv,
      PATH: process.env.PATH,
      BUILDFARM_BUCKET: 'buildfarm-artifacts-abc',
      BUILDFARM_REGION: 'eu-west-1',
      BUILDFARM_HELPER_KEY: 'helpers/fargate-helper-0123456789abcdef0123.cjs',
      AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${port}/creds`,
      BUILDFARM_S3_CONNECT: `http://127.0.0.1:${port}`,
      BUILDFARM_HELPER_FILE: join(dir, 'helper.cjs'),
      MARKER_FILE: join(dir, 'marker'),
    },
    stdio: 'inherit',
  });
  children.add(child);
  return new Promise((resolve) => child.on('exit', (code) => (children.delete(child), resolve(code ?? -1))));
}

describe('Constant: HELPER_BOOTSTRAP_JS', () => {
  it('downloads the helper with a SigV4 signature the AWS SDK signer agrees with, then runs it', async () => {
    // Act
    const code = await runBootstrap();

    // Assess
    expect(code).toBe(0);
    expect(await readFile(join(dir, 'marker'), 'utf8')).toBe('helper ran');
    const get = captured.find((c) => c.url !== '/creds')!;
    expect(get.method).toBe('GET');
    expect(get.url).toBe('/helpers/fargate-helper-0123456789abcdef0123.cjs');
    expect(get.headers.host).toBe('buildfarm-artifacts-abc.s3.eu-west-1.amazonaws.com');
    expect(get.headers['x-amz-security-token']).toBe(credentials.Token);

    const amzDate = String(get.headers['x-amz-date']);
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const signer = new SignatureV4({
      service: 's3',
      region: 'eu-west-1',
      credentials: {
        accessKeyId: credentials.AccessKeyId,
        secretAccessKey: credentials.SecretAccessKey,
        sessionToken: credentials.Token,
      },
      sha256: NodeSha256,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const expected = await signer.sign(
      {
        method: 'GET',
        protocol: 'https:',
        hostname: 'buildfarm-artifacts-abc.s3.eu-west-1.amazonaws.com',
        path: '/helpers/fargate-helper-0123456789abcdef0123.cjs',
        query: {},
        headers: {
          host: 'buildfarm-artifacts-abc.s3.eu-west-1.amazonaws.com',
          'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
        },
      },
      { signingDate },
    );
    expect(get.headers.authorization).toBe(expected.headers.authorization);
  });

  it('exits non-zero when the bucket refuses, without running anything', async () => {
    // Prepare
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      if (req.url === '/creds') return void res.end(JSON.stringify(credentials));
      res.statusCode = 403;
      res.end('<Error><Code>AccessDenied</Code></Error>');
    });

    // Act
    const code = await runBootstrap();

    // Assess
    expect(code).toBe(70);
    await expect(readFile(join(dir, 'marker'), 'utf8')).rejects.toThrow();
  });

  it('defends against a stalled S3 connection: the idle timeout drops it and the download starts again', async () => {
    // Prepare: the first GET gets headers and a few bytes, then silence
    let gets = 0;
    server.removeAllListeners('request');
    server.on('request', (req, res) => {
      if (req.url === '/creds') return void res.end(JSON.stringify(credentials));
      gets += 1;
      if (gets === 1) {
        res.writeHead(200, { 'content-length': String(helperSource.length) });
        res.write(helperSource.slice(0, 10));
        return;
      }
      res.end(helperSource);
    });

    // Act (before the idle timeout, this waited for ever: the test's own timeout ends it)
    const code = await runBootstrap({ BUILDFARM_S3_IDLE_MS: '300' });

    // Assess
    expect(code).toBe(0);
    expect(gets).toBe(2);
    expect(await readFile(join(dir, 'marker'), 'utf8')).toBe('helper ran');
  }, 15_000);
});
