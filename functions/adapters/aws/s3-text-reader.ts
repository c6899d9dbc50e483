/**
 * Reads small JSON records from the bucket and writes nothing: StageCredentials' whole
 * use of S3 (grant records, stage results). Kept apart from S3ArtifactStore so the
 * function's code holds no upload path its role could be asked to allow.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { isNotFound } from './s3-absence.js';

export class S3TextReader implements Pick<ArtifactStore, 'getText'> {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
  ) {}

  async getText(key: string): Promise<string | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return (await response.Body?.transformToString('utf-8')) ?? '';
    } catch (error) {
      // With s3:ListBucket on the bucket a missing key is NoSuchKey (404), not AccessDenied.
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
