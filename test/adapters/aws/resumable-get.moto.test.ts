/**
 * Streamed GetObject bodies cut after their headers, on moto_server 5.2.1 (an S3 we did not
 * write), with the SDK's default checksums as the runner's clients have them: the first answer's
 * body is the SDK's CRC32-checking stream, a ranged answer carries no checksum (moto drops it, as
 * S3 does), and a replaced object answers the resume with 412 PreconditionFailed
 * (moto/s3/responses.py `_get_key`: If-Match; `_handle_range_header`: Range).
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { describe } from 'vitest';
import { describeResumableReads } from '../../support/resumable-read-cases.js';
import { motoUnavailableReason, startMotoServer } from '../../support/twin/moto-server.js';

const unavailable = motoUnavailableReason();
if (unavailable) console.warn(`SKIPPED: resumable reads on moto_server: ${unavailable}`);

const config = (endpoint: string) => ({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });

describe.skipIf(unavailable !== undefined)('moto_server', () => {
  describeResumableReads('moto_server', async () => {
    const moto = await startMotoServer({ flavour: 'plain' });
    const client = new S3Client(config(moto.endpoint));
    await client.send(new CreateBucketCommand({ Bucket: 'farm' }));
    client.destroy();
    return { bucket: 'farm', endpoint: moto.endpoint, config, refusesStaleIfMatch: true, stop: () => moto.stop() };
  });
});
