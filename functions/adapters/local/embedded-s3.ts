/**
 * The local farm's S3: s3rver (a real S3 protocol server) on 127.0.0.1 with
 * its objects under .buildfarm/s3, and the same S3ArtifactStore the Lambda
 * functions use on AWS, pointed at it with path-style addressing.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { S3ArtifactStore } from '../aws/s3-artifact-store.js';
import { s3rverClient } from './s3rver-client.js';
import { EMBEDDED_BUCKET, startS3rver } from './s3rver-server.js';

export { s3rverClient };
export { EMBEDDED_BUCKET, loadS3rver } from './s3rver-server.js';

export interface EmbeddedS3 {
  /** `http://127.0.0.1:PORT`: any S3 client (aws cli with --endpoint-url) can read it. */
  endpoint: string;
  bucket: string;
  client: S3Client;
  store: ArtifactStore;
  close(): Promise<void>;
}

/** An s3rver started in this thread (the worker-thread variant is local/embedded-s3-thread.ts). */
export async function startEmbeddedS3(directory: string, options: { bucket?: string; port?: number } = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? EMBEDDED_BUCKET;
  const server = await startS3rver(directory, { bucket, port: options.port });
  return embeddedS3At(`http://127.0.0.1:${server.port}`, bucket, () => server.close());
}

/** The client and store of an s3rver listening at `endpoint`; `close` ends the client, then calls `stopServer`. */
export function embeddedS3At(endpoint: string, bucket: string, stopServer: () => Promise<void>): EmbeddedS3 {
  const client = s3rverClient(endpoint);
  return {
    endpoint,
    bucket,
    client,
    store: new S3ArtifactStore(client, bucket),
    async close() {
      client.destroy();
      await stopServer();
    },
  };
}
