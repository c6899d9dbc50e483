/**
 * A GetObject answer's body made resumable (resumable-body.ts): after a cut, the rest comes from
 * a ranged GetObject, `Range: bytes=N-` from the first byte not yet received, with
 * `If-Match: <the first answer's ETag>`, so it is the same object version or nothing: S3 answers
 * 412 Precondition Failed when the object changed
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax,
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html).
 *
 * The resumed answer is checked as well as asked for: its ETag must be the first one (s3rver 3.7,
 * the local farm's S3, ignores If-Match on GET) and its Content-Range must start at N and cover the
 * same total (a server that ignored Range would send byte 0 again). A mismatch fails the read with
 * an error naming the key; nothing is spliced from two versions.
 *
 * A ranged answer carries no whole-object checksum (S3 leaves x-amz-checksum-* off range answers;
 * moto 5.2.1 does the same, moto/s3/responses.py `_handle_range_header`, and MinIO followed S3 in
 * minio/minio#17105), so the SDK checks none on a resumed part. The reader's own digest covers
 * every byte anyway.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { ObjectChangedWhileRead, ObjectReadInterrupted } from '../object-read-errors.js';
import { isConnectionCut, resumableBody, type ResumeTuning } from './resumable-body.js';

export interface ObjectLocation {
  client: S3Client;
  bucket: string;
  key: string;
}

/** The body of `first` (a whole-object GetObject answer for `location`), resumed after a cut. */
export function resumableObjectBody(location: ObjectLocation, first: GetObjectCommandOutput, tuning?: ResumeTuning): Readable {
  const etag = first.ETag;
  return resumableBody(
    {
      name: location.key,
      first: first.Body as Readable,
      ...(first.ContentLength === undefined ? {} : { length: first.ContentLength }),
      // Without an ETag there is nothing to pin a resume to: a cut is the caller's.
      ...(etag === undefined || first.ContentLength === undefined ? {} : { from: (offset: number) => readRest(location, offset, etag, first.ContentLength!) }),
    },
    tuning,
  );
}

async function readRest({ client, bucket, key }: ObjectLocation, offset: number, etag: string, length: number): Promise<Readable> {
  let answer: GetObjectCommandOutput;
  try {
    answer = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${offset}-`, IfMatch: etag }));
  } catch (error) {
    if (isConnectionCut(error)) throw error;
    if (changed(error)) throw new ObjectChangedWhileRead(`${key} changed while it was read: resuming at byte ${offset} of ${length}, S3 no longer has ETag ${etag} (${(error as Error).name})`, { cause: error });
    throw new ObjectReadInterrupted(`${key}: resuming the read at byte ${offset} of ${length} failed: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
  }
  const body = answer.Body as Readable;
  if (answer.ETag !== etag) {
    body.destroy();
    throw new ObjectChangedWhileRead(`${key} changed while it was read: resuming at byte ${offset} of ${length}, its ETag was ${etag} and is now ${answer.ETag}`);
  }
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(answer.ContentRange ?? '');
  if (range === null || Number(range[1]) !== offset || Number(range[3]) !== length) {
    body.destroy();
    throw new ObjectReadInterrupted(`${key}: asked for bytes ${offset}- of ${length} to resume a cut read, the answer held ${answer.ContentRange ? `bytes ${answer.ContentRange}` : 'the whole object'}`);
  }
  return body;
}

/** 412 Precondition Failed (If-Match), or the object gone since the first answer. */
function changed(error: unknown): boolean {
  const { name, $metadata } = error as { name?: string; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  return status === 412 || status === 404 || name === 'PreconditionFailed' || name === 'NoSuchKey';
}
