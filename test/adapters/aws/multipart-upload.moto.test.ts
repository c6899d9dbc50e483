/**
 * The uploader against moto (an S3 we did not write) with the SDK's default checksums, as the
 * Lambda runner and the Fargate helper build their clients (no requestChecksumCalculation set:
 * WHEN_SUPPORTED): the upload declares CRC32, each part carries its CRC32, the completion lists
 * them, and the payloads go unsigned. s3rver, the local farm's S3, cannot check any of this.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_PART_SIZE, uploadStream } from '../../../functions/adapters/aws/multipart-upload.js';
import { motoUnavailableReason, startMotoServer, type MotoServer } from '../../support/twin/moto-server.js';

const unavailable = motoUnavailableReason();
if (unavailable) console.warn(`SKIPPED: the uploader on moto_server: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('Function: uploadStream (moto, default checksums)', () => {
  let moto: MotoServer;
  let s3: S3Client;
  const sent: Array<{ command: string; headers: Record<string, string>; body?: string }> = [];

  beforeAll(async () => {
    moto = await startMotoServer({ flavour: 'plain' });
    s3 = new S3Client({ endpoint: moto.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const request = args.request as { headers: Record<string, string>; body?: unknown };
        sent.push({ command: context.commandName ?? '', headers: { ...request.headers }, ...(typeof request.body === 'string' ? { body: request.body } : {}) });
        return next(args);
      },
      { step: 'deserialize', name: 'recordSent' },
    );
    await s3.send(new CreateBucketCommand({ Bucket: 'farm' }));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await moto?.stop();
  });

  it('uploads in CRC32-checked parts with unsigned payloads, and moto stores the same bytes', async () => {
    // Prepare
    const data = randomBytes(2 * MIN_PART_SIZE + 4321);
    // Act
    await uploadStream(s3, { Bucket: 'farm', Key: 'a/archive.tar', ContentType: 'application/x-tar' }, Readable.from([data]), { partSize: MIN_PART_SIZE, queueSize: 2 });
    // Assess
    const parts = sent.filter((request) => request.command === 'UploadPartCommand');
    expect(parts).toHaveLength(3);
    for (const part of parts) {
      expect(part.headers['x-amz-content-sha256']).toBe('UNSIGNED-PAYLOAD');
      expect(part.headers['x-amz-checksum-crc32']).toMatch(/^[A-Za-z0-9+/]{6}==$/);
    }
    expect(sent.find((request) => request.command === 'CreateMultipartUploadCommand')?.headers['x-amz-checksum-algorithm']).toBe('CRC32');
    expect(sent.find((request) => request.command === 'CompleteMultipartUploadCommand')?.body).toContain('<ChecksumCRC32>');
    const stored = await s3.send(new GetObjectCommand({ Bucket: 'farm', Key: 'a/archive.tar' }));
    const bytes = Buffer.from(await stored.Body!.transformToByteArray());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(createHash('sha256').update(data).digest('hex'));
    expect(stored.ContentType).toBe('application/x-tar');
  }, 120_000);
});
