/**
 * Streamed GetObject bodies cut after their headers (where the SDK no longer retries), on s3rver,
 * the local farm's S3: it honours Range but ignores If-Match on GET, so a replaced object is
 * caught by the resumed answer's ETag (s3-resumable-get.ts).
 */
import { s3rverClientConfig } from '../../../functions/adapters/local/s3rver-client.js';
import { describeResumableReads } from '../../support/resumable-read-cases.js';
import { startS3rver } from '../../support/s3rver.js';

describeResumableReads('s3rver', async () => {
  const s3 = await startS3rver();
  return { bucket: s3.bucket, endpoint: s3.endpoint, config: s3rverClientConfig, refusesStaleIfMatch: false, stop: () => s3.stop() };
});
