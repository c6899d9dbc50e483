/**
 * s3rver (a real S3 protocol server) listening on 127.0.0.1 with its objects under a
 * directory, made as safe as the farm needs (full disks, AbortMultipartUpload, suffix
 * ranges). No AWS SDK here: this is all a thread or process serving the embedded S3 loads
 * (the CLI's `run` serves it from a worker thread, local/embedded-s3-thread.ts).
 */
import { mkdir } from 'node:fs/promises';
import { addAbortMultipartUpload } from './s3rver-abort-multipart.js';
import { makeS3rverWritesSafe } from './s3rver-safe-writes.js';
import { addSuffixRanges } from './s3rver-suffix-range.js';

/** The bucket the local farm keeps everything in. */
export const EMBEDDED_BUCKET = 'buildfarm-local';

export interface S3rverOptions {
  bucket: string;
  /** 0 (the default): any free port. */
  port?: number;
}

export interface RunningS3rver {
  port: number;
  close(): Promise<void>;
}

/**
 * s3rver and its Koa stack, loaded on first use: a third of the CLI's loading time, which
 * `buildfarm run --help`, `plan` without history and `validate` need not pay (issue 12's fixed
 * overhead).
 */
let loadingS3rver: Promise<typeof import('s3rver')['default']> | undefined;
export function loadS3rver(): Promise<typeof import('s3rver')['default']> {
  loadingS3rver ??= import('s3rver').then((module) => module.default);
  return loadingS3rver;
}

export async function startS3rver(directory: string, options: S3rverOptions): Promise<RunningS3rver> {
  const [S3rver] = await Promise.all([loadS3rver(), mkdir(directory, { recursive: true })]);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: options.bucket }],
  });
  // Before it serves anything: a full disk must fail an upload, not kill the farm (see the module).
  makeS3rverWritesSafe((server as unknown as { store: unknown }).store);
  addAbortMultipartUpload(server);
  addSuffixRanges(server);
  const { port } = await server.run();
  return { port, close: () => server.close() };
}
