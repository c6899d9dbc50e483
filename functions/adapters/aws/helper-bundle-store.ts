/**
 * Puts the Fargate helper bundle in the artifact bucket, under a key named by its
 * content hash, so the fetch container of every task can download the exact code
 * that is deployed. HeadObject first: the upload happens once per deployed version.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { isAbsent } from './s3-absence.js';

export class HelperBundleStore {
  private readonly uploaded = new Set<string>();

  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  /** Makes sure `code` is at `key`; `key` must change whenever `code` does. */
  async ensure(key: string, code: Buffer): Promise<void> {
    if (this.uploaded.has(key)) return;
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (error) {
      if (!(await isAbsent(this.s3, this.bucket, key, error))) throw error;
      await this.s3.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: code, ContentType: 'text/javascript' }),
      );
    }
    this.uploaded.add(key);
  }
}
