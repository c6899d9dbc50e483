/**
 * The artifact store on S3 (and, locally, on s3rver through the same code).
 *
 * Server-side encryption is the bucket's default encryption (set in the
 * template), so no per-object SSE parameters are sent: S3 applies SSE-S3 to
 * every new object anyway since January 2023
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-encryption-faq.html).
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, paginateListObjectsV2, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArtifactStore, ObjectRead, RangeRequest, ReopenableFile, StoredObject } from '../../ports/artifact-store.js';
import { uploadStream, checkTuning } from './multipart-upload.js';
import { isAbsent } from './s3-absence.js';
import { isConnectionCut, type ResumeTuning } from './resumable-body.js';
import { resumableObjectBody } from './s3-resumable-get.js';

/**
 * Multipart part size: the AWS CLI's multipart_chunksize. 8 MiB parts keep the 10,000-part
 * limit above 78 GiB per object (S3 multipart limits:
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html), and a body of one part
 * or less goes as a single PutObject.
 */
export const UPLOAD_PART_SIZE = 8 * 1024 * 1024;

/**
 * Parts in flight at once: the AWS CLI's max_concurrent_requests
 * (https://docs.aws.amazon.com/cli/latest/topic/s3-config.html). The uploader (multipart-upload.ts)
 * holds at most (queueSize + 1) x partSize = 88 MiB of parts whatever the object's size, which
 * fits the smallest runner (1024 MB) with room to spare.
 */
export const UPLOAD_QUEUE_SIZE = 10;

/**
 * A reopenable file (ports/artifact-store.ts: a stage's log) up to this size goes up as
 * one PutObject streamed from disk, with no part in memory. The multipart uploader holds up to
 * (queueSize + 1) parts of any stream, 88 MiB (lib-storage held 40 MiB): for the 64 MiB log at a
 * stage's end that was the build process's peak (issue 11). Above this size, multipart's
 * parallel parts earn their memory.
 * (PutObject takes up to 5 GB: https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html)
 */
export const STREAMED_PUT_MAX_BYTES = 128 * 1024 * 1024;

/** PutObject attempts of a reopenable file, each reading it afresh, before the error is the caller's. */
export const BODY_READ_ATTEMPTS = 4;

/** S3 answered 5xx (SlowDown, InternalError) or the connection went away. */
function isTransient(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode ?? 0;
  return status >= 500 || isConnectionCut(error);
}

/** How to read a reopenable stream nothing has read yet again, and its length (ports/artifact-store.ts), else undefined. */
function unreadFile(body: Readable | Buffer | string): { reopen: () => Readable; length: number } | undefined {
  if (!(body instanceof Readable) || body.destroyed || body.readableDidRead) return undefined;
  const { reopen, reopenableLength: length } = body as Partial<ReopenableFile>;
  return typeof reopen === 'function' && typeof length === 'number' ? { reopen, length } : undefined;
}


/** How large bodies are cut and sent (the defaults are the constants above), and how cut reads resume. */
export interface UploadTuning {
  partSize?: number;
  queueSize?: number;
  /** How a cut GetObject body is resumed (resumable-body.ts defaults). */
  resume?: ResumeTuning;
}

export class S3ArtifactStore implements ArtifactStore {
  private readonly partSize: number;
  private readonly queueSize: number;
  private readonly resume: ResumeTuning | undefined;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    tuning: UploadTuning = {},
  ) {
    this.partSize = tuning.partSize ?? UPLOAD_PART_SIZE;
    this.queueSize = tuning.queueSize ?? UPLOAD_QUEUE_SIZE;
    this.resume = tuning.resume;
    checkTuning({ partSize: this.partSize, queueSize: this.queueSize });
  }

  async put(key: string, body: Readable | Buffer | string, contentType?: string): Promise<void> {
    const file = unreadFile(body);
    if (file !== undefined && file.length <= STREAMED_PUT_MAX_BYTES) {
      (body as Readable).destroy();
      return this.putFile(key, file.reopen, file.length, contentType);
    }
    // A Buffer or string goes whole (Readable.from does not split them): one PutObject when it fits a part.
    const stream = body instanceof Readable ? body : Readable.from([typeof body === 'string' ? Buffer.from(body) : body]);
    await uploadStream(this.client, { Bucket: this.bucket, Key: key, ...(contentType ? { ContentType: contentType } : {}) }, stream, { partSize: this.partSize, queueSize: this.queueSize });
  }

  /**
   * One PutObject per attempt, each reading the bytes afresh: the SDK never retries a streamed
   * body (@smithy's retry middleware gives up on a streaming payload), so transient failures are
   * retried here, as they are for parts.
   */
  private async putFile(key: string, reopen: () => Readable, length: number, contentType?: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: reopen(), ContentLength: length, ContentType: contentType }));
        return;
      } catch (error) {
        if (attempt >= BODY_READ_ATTEMPTS || !isTransient(error)) throw error;
      }
    }
  }

  /**
   * The object's bytes as one stream, even when the connection is cut mid-body: the rest is
   * fetched from where it stopped, pinned to the same version (s3-resumable-get.ts). A cut the
   * resumes cannot mend is ObjectReadInterrupted; a replaced object, ObjectChangedWhileRead.
   */
  async get(key: string): Promise<Readable | undefined> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (response.Body === undefined) return Readable.from([]);
      // In Node.js the SDK's body is an http.IncomingMessage, a Readable.
      return resumableObjectBody({ client: this.client, bucket: this.bucket, key }, response, this.resume);
    } catch (error) {
      if (await isAbsent(this.client, this.bucket, key, error)) return undefined;
      throw error;
    }
  }

  /** GetObject with an HTTP Range (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax). */
  async read(key: string, range?: RangeRequest): Promise<ObjectRead | 'unsatisfiable' | undefined> {
    const header = range === undefined ? undefined : 'suffix' in range ? `bytes=-${range.suffix}` : `bytes=${range.start}-${range.end ?? ''}`;
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: header }));
      const body = response.Body === undefined ? Readable.from([]) : (response.Body as Readable);
      const length = response.ContentLength ?? 0;
      const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.ContentRange ?? '');
      if (contentRange === null) return { body, length, total: length };
      return { body, length, total: Number(contentRange[3]), range: { start: Number(contentRange[1]), end: Number(contentRange[2]) } };
    } catch (error) {
      if ((error as { name?: string } | null)?.name === 'InvalidRange' || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) return 'unsatisfiable';
      if (await isAbsent(this.client, this.bucket, key, error)) return undefined;
      throw error;
    }
  }

  /** The whole object as text: `get`'s stream, so a body cut mid-way is resumed as for any read. */
  async getText(key: string): Promise<string | undefined> {
    const body = await this.get(key);
    if (body === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string));
    return Buffer.concat(chunks).toString('utf8');
  }

  /**
   * Follows continuation tokens page by page. (s3rver builds its tokens with
   * DES, which Node 22's OpenSSL 3 only offers under `--openssl-legacy-provider`:
   * a local listing of more than 1,000 keys needs that flag.)
   */
  async *list(prefix: string, pageSize?: number): AsyncIterable<StoredObject> {
    const pages = paginateListObjectsV2({ client: this.client, pageSize }, { Bucket: this.bucket, Prefix: prefix });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) {
        if (object.Key !== undefined) yield {
            key: object.Key,
            size: object.Size ?? 0,
            ...(object.LastModified ? { lastModified: object.LastModified } : {}),
            ...(object.ETag ? { etag: object.ETag } : {}),
          };
      }
    }
  }
}
