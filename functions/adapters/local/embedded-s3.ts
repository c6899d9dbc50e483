/**
 * The local farm's S3: s3rver (a real S3 protocol server) on 127.0.0.1 with
 * its objects under .buildfarm/s3, and the same S3ArtifactStore the Lambda
 * functions use on AWS, pointed at it with path-style addressing.
 */
import { mkdir } from 'node:fs/promises';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { S3ArtifactStore } from '../aws/s3-artifact-store.js';

export const EMBEDDED_BUCKET = 'buildfarm-local';

export interface EmbeddedS3 {
  /** `http://127.0.0.1:PORT`: any S3 client (aws cli with --endpoint-url) can read it. */
  endpoint: string;
  bucket: string;
  client: S3Client;
  store: ArtifactStore;
  close(): Promise<void>;
}

/** An S3 client for an s3rver endpoint: path-style, and checksums only where s3rver understands them. */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    // s3rver accepts any signature; these only satisfy the SDK's signer.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 checksums (aws-chunked trailers): send them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

export async function startEmbeddedS3(directory: string, options: { bucket?: string; port?: number } = {}): Promise<EmbeddedS3> {
  const bucket = options.bucket ?? EMBEDDED_BUCKET;
  await mkdir(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port ?? 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
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
