/**
 * Reads a small text object (the plan) from the artifact bucket. A narrow stand-in for
 * the ArtifactStore port's `getText` until the shared S3 artifact store is on main;
 * the handler depends only on `Pick<ArtifactStore, 'getText'>`, so either fits.
 */
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../ports/artifact-store.js';

export class S3TextReader implements Pick<ArtifactStore, 'getText'> {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async getText(key: string): Promise<string | undefined> {
    try {
      const output = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await output.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }
}
