/**
 * The S3 client settings for an s3rver endpoint, in a module of their own so a process
 * can talk to the embedded S3 without loading s3rver itself (the upload benchmark measures RSS).
 */
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** An S3 client for an s3rver endpoint: path-style, and checksums only where s3rver understands them. */
export function s3rverClient(endpoint: string): S3Client {
  return new S3Client(s3rverClientConfig(endpoint));
}

/** The settings of `s3rverClient`, for a client whose credentials come from elsewhere (a stage session). */
export function s3rverClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    // s3rver accepts any signature; these only satisfy the SDK's signer.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // s3rver predates the SDK's default CRC32 checksums (aws-chunked trailers): send them only when required.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
}
