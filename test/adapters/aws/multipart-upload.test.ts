import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MIN_PART_SIZE, SMALL_BODY_BYTES, uploadStream } from '../../../functions/adapters/aws/multipart-upload.js';
import { S3ArtifactStore, UPLOAD_PART_SIZE, UPLOAD_QUEUE_SIZE } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { s3rverClient } from '../../../functions/adapters/local/s3rver-client.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';

const MiB = 1024 * 1024;

/** What the client sent, seen from a middleware: every command, UploadPart sizes, and the most UploadParts open at once. */
interface Traffic {
  commands: string[];
  partSizes: number[];
  maxPartsInFlight: number;
  /** x-amz-content-sha256 of each body-carrying request as sent (after signing). */
  payloadHashes: string[];
}

/** A client of its own (middleware on the shared one would see other tests' requests). */
function recordingClient(endpoint: string): { client: S3Client; traffic: Traffic } {
  const client = s3rverClient(endpoint);
  const traffic: Traffic = { commands: [], partSizes: [], maxPartsInFlight: 0, payloadHashes: [] };
  let open = 0;
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      traffic.commands.push(name);
      if (name !== 'UploadPartCommand') return next(args);
      traffic.partSizes.push(((args.input as { Body: Buffer }).Body).length);
      open += 1;
      traffic.maxPartsInFlight = Math.max(traffic.maxPartsInFlight, open);
      try {
        return await next(args);
      } finally {
        open -= 1;
      }
    },
    { step: 'initialize', name: 'recordTraffic' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const headers = (args.request as { headers: Record<string, string> }).headers;
      if (context.commandName === 'UploadPartCommand' || context.commandName === 'PutObjectCommand') traffic.payloadHashes.push(headers['x-amz-content-sha256'] ?? '');
      return next(args);
    },
    { step: 'deserialize', name: 'recordSignedHeaders' },
  );
  return { client, traffic };
}

/** `data` as a stream of uneven chunks, as a tar stream delivers it. */
function unevenStream(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0, size = 1000; offset < data.length; offset += size, size = (size * 7 + 13) % 900_000 + 1) chunks.push(data.subarray(offset, offset + size));
  return Readable.from(chunks);
}

async function stored(client: S3Client, bucket: string, key: string): Promise<Buffer> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(await response.Body!.transformToByteArray());
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('Function: uploadStream', () => {
  let s3: RunningS3rver;

  beforeAll(async () => {
    s3 = await startS3rver();
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('sends parts of the configured size, as many at once as the queue size and no more, and stores the bytes in order', async () => {
    // Prepare: 6 parts and a bit, queue of 3
    const { client, traffic } = recordingClient(s3.endpoint);
    const data = randomBytes(6 * MIN_PART_SIZE + 12_345);
    // Act
    await uploadStream(client, { Bucket: s3.bucket, Key: 'mp/six.bin' }, unevenStream(data), { partSize: MIN_PART_SIZE, queueSize: 3 });
    // Assess
    expect(traffic.partSizes).toEqual([...Array(6).fill(MIN_PART_SIZE), 12_345]);
    expect(traffic.maxPartsInFlight).toBe(3);
    expect(traffic.commands.filter((c) => c !== 'UploadPartCommand')).toEqual(['CreateMultipartUploadCommand', 'CompleteMultipartUploadCommand']);
    expect(sha(await stored(client, s3.bucket, 'mp/six.bin'))).toBe(sha(data));
    // Signed without a second sha256 pass over the body on the main thread (the archive's own digest guards it).
    expect(new Set(traffic.payloadHashes)).toEqual(new Set(['UNSIGNED-PAYLOAD']));
    client.destroy();
  });

  it('sends a body of exactly one part, or less, or nothing, as one PutObject', async () => {
    const { client, traffic } = recordingClient(s3.endpoint);
    for (const [key, size] of [['one/exact', MIN_PART_SIZE], ['one/less', 10], ['one/empty', 0]] as const) {
      const data = randomBytes(size);
      // Act
      await uploadStream(client, { Bucket: s3.bucket, Key: key }, unevenStream(data), { partSize: MIN_PART_SIZE, queueSize: 2 });
      // Assess
      expect(sha(await stored(client, s3.bucket, key))).toBe(sha(data));
    }
    expect(traffic.commands.filter((c) => c !== 'GetObjectCommand')).toEqual(['PutObjectCommand', 'PutObjectCommand', 'PutObjectCommand']);
    client.destroy();
  });

  it('sends a small body without taking a part buffer, and one just past the small size through them, bytes in order', async () => {
    // Prepare: a record, many tiny chunks, and 100 chunks of 3 KB (300 KB, past SMALL_BODY_BYTES)
    const { client, traffic } = recordingClient(s3.endpoint);
    const record = Buffer.from(JSON.stringify({ stage: 'test', pad: 'x'.repeat(2000) }));
    const tiny = randomBytes(20_000);
    const past = randomBytes(100 * 3000);
    const chunked = (data: Buffer, size: number) => Readable.from(Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size)));
    const allocations = vi.spyOn(Buffer, 'allocUnsafeSlow');
    try {
      // Act
      await uploadStream(client, { Bucket: s3.bucket, Key: 'small/record.json' }, Readable.from([record]), { partSize: MIN_PART_SIZE, queueSize: 2 });
      await uploadStream(client, { Bucket: s3.bucket, Key: 'small/tiny.bin' }, chunked(tiny, 7), { partSize: MIN_PART_SIZE, queueSize: 2 });
      const smallAllocations = allocations.mock.calls.filter(([size]) => size === MIN_PART_SIZE).length;
      await uploadStream(client, { Bucket: s3.bucket, Key: 'small/past.bin' }, chunked(past, 3000), { partSize: MIN_PART_SIZE, queueSize: 2 });
      // Assess: no 5 MiB part buffer for the small ones (one for the body past the small size)
      expect(smallAllocations).toBe(0);
      expect(allocations.mock.calls.filter(([size]) => size === MIN_PART_SIZE).length).toBe(1);
      expect(past.length).toBeGreaterThan(SMALL_BODY_BYTES);
    } finally {
      allocations.mockRestore();
    }
    expect(sha(await stored(client, s3.bucket, 'small/record.json'))).toBe(sha(record));
    expect(sha(await stored(client, s3.bucket, 'small/tiny.bin'))).toBe(sha(tiny));
    expect(sha(await stored(client, s3.bucket, 'small/past.bin'))).toBe(sha(past));
    expect(traffic.commands.filter((c) => c === 'PutObjectCommand')).toHaveLength(3);
    client.destroy();
  });

  it('aborts the multipart upload and reports the body error when the body fails midway', async () => {
    // Prepare: two parts' worth, then the stream fails
    const { client, traffic } = recordingClient(s3.endpoint);
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(2 * MIN_PART_SIZE + 1);
        throw new Error('the packer failed');
      })(),
    );
    // Act
    const outcome = uploadStream(client, { Bucket: s3.bucket, Key: 'mp/failed.bin' }, failing, { partSize: MIN_PART_SIZE, queueSize: 2 });
    // Assess
    await expect(outcome).rejects.toThrow('the packer failed');
    expect(traffic.commands).toContain('AbortMultipartUploadCommand');
    expect(traffic.commands).not.toContain('CompleteMultipartUploadCommand');
    await expect(stored(client, s3.bucket, 'mp/failed.bin')).rejects.toThrow();
    client.destroy();
  });

  it('refuses parts below S3 minimum of 5 MiB and a queue below 1, naming the setting', async () => {
    await expect(uploadStream(s3.client, { Bucket: s3.bucket, Key: 'x' }, Readable.from([]), { partSize: MIN_PART_SIZE - 1, queueSize: 4 })).rejects.toThrow(/part size .* below S3's minimum/);
    expect(() => new S3ArtifactStore(s3.client, s3.bucket, { queueSize: 0 })).toThrow(/queue size 0/);
  });

  it('keeps the store default tuning: 8 MiB parts, 10 in flight (the AWS CLI defaults)', async () => {
    // Prepare: three parts' worth through the store with no tuning given
    const { client, traffic } = recordingClient(s3.endpoint);
    const data = randomBytes(2 * UPLOAD_PART_SIZE + MiB);
    // Act
    await new S3ArtifactStore(client, s3.bucket).put('store/default.bin', unevenStream(data));
    // Assess
    expect(UPLOAD_PART_SIZE).toBe(8 * MiB);
    expect(UPLOAD_QUEUE_SIZE).toBe(10);
    expect(traffic.partSizes).toEqual([UPLOAD_PART_SIZE, UPLOAD_PART_SIZE, MiB]);
    expect(sha(await stored(client, s3.bucket, 'store/default.bin'))).toBe(sha(data));
    client.destroy();
  });
});
