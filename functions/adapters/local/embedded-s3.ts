/**
 * The local farm's S3: s3rver (a real S3 protocol server) on 127.0.0.1 with
 * its objects under .buildfarm/s3, and the same S3ArtifactStore the Lambda
 * functions use on AWS, pointed at it with path-style addressing.
 */
import { mkdir } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { S3ArtifactStore } from '../aws/s3-artifact-store.js';
import { s3rverClient } from './s3rver-client.js';
import { addAbortMultipartUpload } from './s3rver-abort-multipart.js';
import { makeS3rverReadsConsistent } from './s3rver-consistent-reads.js';
import { makeS3rverCopiesSafe } from './s3rver-safe-copy.js';
import { sweepAbandonedPartials } from './s3rver-object-stamp.js';
import { makeS3rverWritesSafe } from './s3rver-safe-writes.js';
import { addSuffixRanges } from './s3rver-suffix-range.js';
import { addUnsentBodyRelease } from './s3rver-unsent-bodies.js';

export { s3rverClient };

export const EMBEDDED_BUCKET = 'buildfarm-local';

export interface EmbeddedS3 {
  /** `http://127.0.0.1:PORT`: any S3 client (aws cli with --endpoint-url) can read it. */
  endpoint: string;
  bucket: string;
  client: S3Client;
  store: ArtifactStore;
  close(): Promise<void>;
}

/** s3rver's error type: what its error middleware renders as S3's XML error. */
export type S3rverError = new (code: string, message: string) => Error;

/**
 * s3rver and its Koa stack, loaded on first use: a third of the CLI's loading time, which
 * `buildfarm run --help`, `plan` without history and `validate` need not pay (issue 12's fixed
 * overhead). `buildfarm run` calls it early, so the loading overlaps its git processes. Its error
 * type comes from the same load, so it is the very class s3rver checks its errors against, whether
 * s3rver runs from node_modules (the sources) or from the CLI bundle (scripts/bundle.mjs).
 */
interface LoadedS3rver {
  S3rver: typeof import('s3rver')['default'];
  S3Error: S3rverError;
  /** s3rver's object model: what its store answers a read with, and the headers it keeps. */
  S3Object: S3rverObject;
}
type S3rverObject = Parameters<typeof makeS3rverReadsConsistent>[1] & { ALLOWED_METADATA: readonly string[] };

let loadingS3rver: Promise<LoadedS3rver> | undefined;
export function loadS3rver(): Promise<LoadedS3rver> {
  loadingS3rver ??= Promise.all([import('s3rver'), import('s3rver/lib/models/error.js'), import('s3rver/lib/models/object.js')]).then(
    ([server, error, object]) => ({
      S3rver: server.default,
      S3Error: error.default,
      S3Object: object.default,
    }),
  );
  return loadingS3rver;
}

export async function startEmbeddedS3(directory: string, options: { bucket?: string; port?: number } = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? EMBEDDED_BUCKET;
  const [{ S3rver, S3Error, S3Object }] = await Promise.all([
    loadS3rver(),
    mkdir(directory, { recursive: true }).then(() => sweepAbandonedPartials(directory)),
  ]);
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  // Before it serves anything: a full disk must fail an upload, not kill the farm, and an overwrite
  // must never be read half-done (see the modules).
  const store = (server as unknown as { store: unknown }).store;
  makeS3rverWritesSafe(store, S3Error, S3Object.ALLOWED_METADATA);
  makeS3rverReadsConsistent(store, S3Object);
  makeS3rverCopiesSafe(store, S3Error);
  addAbortMultipartUpload(server);
  addSuffixRanges(server);
  addUnsentBodyRelease(server);
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const client = s3rverClient(endpoint);
  return {
    endpoint,
    bucket,
    client,
    store: new S3ArtifactStore(client, bucket),
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
