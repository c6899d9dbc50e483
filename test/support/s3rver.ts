/**
 * A real S3 protocol server for tests: s3rver on 127.0.0.1, a free port, a
 * temporary directory, one bucket. The client talks to it exactly as it would
 * to S3 (path-style addressing, dummy credentials).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { S3Client } from '@aws-sdk/client-s3';
import { s3rverClient } from '../../functions/adapters/local/s3rver-client.js';
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';

export interface RunningS3rver {
  client: S3Client;
  bucket: string;
  endpoint: string;
  stop(): Promise<void>;
}

export interface S3rverOptions {
  bucket?: string;
  /** Run the server in a child process, so this process's memory is the client's alone. */
  ownProcess?: boolean;
}

export async function startS3rver(options: S3rverOptions = {}): Promise<RunningS3rver> {
  const bucket = options.bucket ?? 'buildfarm-test';
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const server = options.ownProcess ? await startInChild(directory, bucket) : await startInProcess(directory, bucket);
  const endpoint = `http://127.0.0.1:${server.port}`;
  const client = s3rverClient(endpoint);
  return {
    client,
    bucket,
    endpoint,
    async stop() {
      client.destroy();
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

interface Server {
  port: number;
  close(): Promise<void>;
}

/**
 * The farm's own s3rver (embedded-s3.ts), with its patches: unpatched s3rver 3.7 answers a PUT
 * before the file is written, so a GET right after it can read a truncated object (a CI flake).
 */
async function startInProcess(directory: string, bucket: string): Promise<Server> {
  const server = await startEmbeddedS3(directory, { bucket });
  return { port: Number(new URL(server.endpoint).port), close: () => server.close() };
}

async function startInChild(directory: string, bucket: string): Promise<Server> {
  const script = fileURLToPath(new URL('./s3rver-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, directory, bucket], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`s3rver process exited with ${code}`)));
    child.stdout.setEncoding('utf8').once('data', (line: string) => resolve(Number(line.trim())));
  });
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        child.removeAllListeners('exit');
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}
