/**
 * Streams a body of unknown length to S3: one PutObject when it fits in one part, else a
 * multipart upload with `queueSize` parts in flight.
 *
 * Why not @aws-sdk/lib-storage's Upload: it gathers each part with Buffer.concat into a
 * freshly allocated buffer, so every byte is copied into new memory that the kernel must
 * map and the garbage collector must free (a CPU profile of a 256 MiB artifact upload put
 * more main-thread time there than in the network writes; issue 12). Here a fixed pool of
 * at most queueSize + 1 part buffers is filled and reused: one copy per byte, no garbage,
 * and memory bounded by (queueSize + 1) x partSize whatever the body's size. Most bodies are
 * far smaller than a part (a JSON record, a stage's short log): their first SMALL_BODY_BYTES are
 * gathered in a buffer of their own size, and a part buffer is taken only past that (allocating a
 * whole 8 MiB part for each 2 KB record made every small write 2 to 3 times slower than a plain
 * PutObject, more as the garbage collector fell behind).
 *
 * S3's rules (https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html): parts are
 * at least 5 MiB except the last, at most 10,000 of them; a failed upload is aborted so its
 * parts are not billed (https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html).
 * With the SDK's default checksums (requestChecksumCalculation WHEN_SUPPORTED), the upload
 * declares CRC32 and lists each part's checksum on completion, as lib-storage does
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html).
 *
 * Part bodies are sent with the unsigned-payload option of SigV4 (`x-amz-content-sha256:
 * UNSIGNED-PAYLOAD`, https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html):
 * left to itself the SDK hashes every Buffer body with sha256 on the main thread to sign it, a
 * second full pass over the archive beside the archive's own sha256. The AWS CLI does the same
 * over HTTPS (botocore signs S3 payloads only over plain HTTP or when asked). What guards the
 * bytes instead: TLS to S3, the CRC32 S3 checks on each part with the SDK's default checksums,
 * and the archive's sha256, which the consuming stage checks on the way down.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

export const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Bodies up to this size never take a part buffer (see the module's comment). */
export const SMALL_BODY_BYTES = 256 * 1024;
export const MAX_PARTS = 10_000;

export interface UploadTarget {
  Bucket: string;
  Key: string;
  ContentType?: string;
}

export interface MultipartTuning {
  /** Bytes per part (the last may be shorter); at least MIN_PART_SIZE. */
  partSize: number;
  /** Parts sent at once. */
  queueSize: number;
}

/** Checks the tuning against S3's part rules; throws naming the setting. */
export function checkTuning(tuning: MultipartTuning): void {
  if (!Number.isInteger(tuning.partSize) || tuning.partSize < MIN_PART_SIZE) {
    throw new RangeError(`upload part size ${tuning.partSize} is below S3's minimum of ${MIN_PART_SIZE} bytes (5 MiB)`);
  }
  if (!Number.isInteger(tuning.queueSize) || tuning.queueSize < 1) {
    throw new RangeError(`upload queue size ${tuning.queueSize} must be a whole number of at least 1`);
  }
}

export async function uploadStream(client: S3Client, target: UploadTarget, body: Readable, tuning: MultipartTuning): Promise<void> {
  checkTuning(tuning);
  const upload = new PartPipeline(client, target, tuning);
  try {
    for await (const chunk of body) await upload.write(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    await upload.end();
  } catch (error) {
    body.destroy();
    await upload.abort();
    throw error;
  }
}

/** The state of one upload: the part being filled, the parts in flight, the free buffers. */
class PartPipeline {
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private current: Buffer | undefined;
  private filled = 0;
  /** A full part held back until more bytes arrive: a body of exactly one part goes as one PutObject. */
  private held: Buffer | undefined;
  private uploadId: Promise<string> | undefined;
  private partNumber = 0;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly completed: CompletedPart[] = [];
  private failure: unknown;
  private checksums = false;
  /** The body so far (copies of its chunks) while it is at most SMALL_BODY_BYTES; undefined once part buffers are in use. */
  private small: Buffer[] | undefined = [];
  private smallBytes = 0;

  constructor(
    private readonly client: S3Client,
    private readonly target: UploadTarget,
    private readonly tuning: MultipartTuning,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    if (this.small !== undefined) {
      if (this.smallBytes + chunk.length <= SMALL_BODY_BYTES) {
        // Copied: a caller may reuse its chunk once write resolves.
        this.small.push(Buffer.from(chunk));
        this.smallBytes += chunk.length;
        return;
      }
      // Past a small body: on with the part buffers, starting with what was gathered.
      const gathered = this.small;
      this.small = undefined;
      for (const piece of gathered) await this.fill(piece);
    }
    await this.fill(chunk);
  }

  private async fill(chunk: Buffer): Promise<void> {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.held !== undefined) await this.send(this.held, this.tuning.partSize);
      this.held = undefined;
      this.current ??= await this.takeBuffer();
      const copied = chunk.copy(this.current, this.filled, offset);
      this.filled += copied;
      offset += copied;
      if (this.filled === this.tuning.partSize) {
        this.held = this.current;
        this.current = undefined;
        this.filled = 0;
      }
    }
  }

  async end(): Promise<void> {
    if (this.uploadId === undefined) {
      // Everything fits in one part: a single PutObject (also for an empty body).
      const only = this.small !== undefined ? Buffer.concat(this.small, this.smallBytes) : (this.held ?? this.current?.subarray(0, this.filled) ?? Buffer.alloc(0));
      await this.client.send(unsigned(new PutObjectCommand({ ...this.target, Body: only })));
      return;
    }
    if (this.held !== undefined) await this.send(this.held, this.tuning.partSize);
    if (this.current !== undefined && this.filled > 0) await this.send(this.current, this.filled);
    await this.settle();
    const UploadId = await this.uploadId;
    const Parts = [...this.completed].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await this.client.send(new CompleteMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId, MultipartUpload: { Parts } }));
  }

  /** After a failure: let the parts in flight finish, then abort so S3 drops the parts (never masks the first error). */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    if (this.uploadId === undefined) return;
    try {
      const UploadId = await this.uploadId;
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId }));
    } catch {
      // The upload's own error is the one to report; S3 expires an unaborted upload per the bucket's lifecycle rule.
    }
  }

  /** Starts a part's upload once a slot is free; the buffer returns to the pool when S3 has it. */
  private async send(buffer: Buffer, length: number): Promise<void> {
    while (this.inFlight.size >= this.tuning.queueSize) await Promise.race(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
    this.partNumber += 1;
    if (this.partNumber > MAX_PARTS) {
      throw new RangeError(`${this.target.Key}: more than ${MAX_PARTS} parts of ${this.tuning.partSize} bytes (S3's multipart limit); raise the part size`);
    }
    const PartNumber = this.partNumber;
    this.uploadId ??= this.create();
    const sending = this.uploadPart(PartNumber, buffer.subarray(0, length)).then(
      () => {
        this.free.push(buffer);
      },
      (error: unknown) => {
        this.failure ??= error;
      },
    );
    const tracked = sending.finally(() => this.inFlight.delete(tracked));
    this.inFlight.add(tracked);
  }

  private async uploadPart(PartNumber: number, Body: Buffer): Promise<void> {
    const UploadId = await this.uploadId!;
    const response = await this.client.send(unsigned(new UploadPartCommand({ Bucket: this.target.Bucket, Key: this.target.Key, UploadId, PartNumber, Body })));
    if (response.ETag === undefined) throw new Error(`${this.target.Key}: S3 returned no ETag for part ${PartNumber}`);
    this.completed.push({ PartNumber, ETag: response.ETag, ...(this.checksums && response.ChecksumCRC32 ? { ChecksumCRC32: response.ChecksumCRC32 } : {}) });
  }

  private async create(): Promise<string> {
    this.checksums = (await this.client.config.requestChecksumCalculation()) === 'WHEN_SUPPORTED';
    const response = await this.client.send(new CreateMultipartUploadCommand({ ...this.target, ...(this.checksums ? { ChecksumAlgorithm: 'CRC32' } : {}) }));
    if (response.UploadId === undefined) throw new Error(`${this.target.Key}: S3 returned no UploadId`);
    return response.UploadId;
  }

  private async settle(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure !== undefined) throw this.failure;
  }

  /** A free part buffer: reused, or a new one while fewer than queueSize + 1 exist, else the first one freed. */
  private async takeBuffer(): Promise<Buffer> {
    for (;;) {
      const reused = this.free.pop();
      if (reused !== undefined) return reused;
      if (this.allocated < this.tuning.queueSize + 1) {
        this.allocated += 1;
        return Buffer.allocUnsafeSlow(this.tuning.partSize);
      }
      if (this.failure !== undefined) throw this.failure;
      await Promise.race(this.inFlight);
    }
  }
}

/** The command, signed without hashing its body (see the module's comment). */
function unsigned<C extends PutObjectCommand | UploadPartCommand>(command: C): C {
  type Handler = (args: { request: unknown }) => Promise<unknown>;
  const stack = command.middlewareStack as unknown as { add(middleware: (next: Handler) => Handler, options: object): void };
  stack.add(
    (next) => async (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (request.headers) request.headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
      return next(args);
    },
    // After the checksum middleware set its headers (build), before the signer reads this one (finalizeRequest).
    { step: 'build', name: 'unsignedPayload', priority: 'low' },
  );
  return command;
}
