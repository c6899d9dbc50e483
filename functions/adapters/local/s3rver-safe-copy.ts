/**
 * s3rver 3.7's CopyObject (`FilesystemStore.copyObject`) copies the object file in place with
 * fs-extra's `copy`, then copies the source's metadata and `.md5` files beside it, or writes the
 * replacement metadata over the destination's. That bypasses the farm's whole-version writes (the
 * destination is truncated and rewritten in place, not renamed into place), and the copied metadata
 * carries the stamp of the source's object file (s3rver-object-stamp.ts), which never matches the
 * new file, so the copy lost its Content-Type and user metadata. A copy is a GET then a PUT, as S3's
 * own documentation puts it: this reads the source as one version (s3rver-consistent-reads.ts) and
 * writes it through the safe PUT (s3rver-safe-writes.ts), with the source's metadata
 * (`x-amz-metadata-directive: COPY`, the default) or the request's (`REPLACE`).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html
 * Checked against s3rver 3.7.1: `copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata)`
 * answers the destination's metadata (with `etag` and `last-modified`); `replacementMetadata` is the
 * request's headers, or null to copy the source's.
 */
import { Readable } from 'node:stream';
import type { S3ErrorType } from './s3rver-safe-writes.js';

type Metadata = Record<string, string>;

interface FilesystemStore {
  getObject(bucket: string, key: string): Promise<{ content: Readable | null; metadata: Metadata } | null>;
  putObject(object: { bucket: string; key: string; content: Readable; metadata: Metadata }): Promise<unknown>;
  getMetadata(bucket: string, key: string): Promise<Metadata>;
  copyObject(srcBucket: string, srcKey: string, destBucket: string, destKey: string, replacementMetadata: Metadata | null): Promise<Metadata>;
}

/** Call after makeS3rverWritesSafe and makeS3rverReadsConsistent: the copy goes through both. */
export function makeS3rverCopiesSafe(store: unknown, S3Error: S3ErrorType): void {
  const fsStore = store as FilesystemStore;
  if (['getObject', 'putObject', 'getMetadata', 'copyObject'].some((method) => typeof (fsStore as unknown as Record<string, unknown>)[method] !== 'function')) {
    throw new Error('s3rver changed: its filesystem store no longer has getObject/putObject/getMetadata/copyObject (see s3rver-safe-copy.ts)');
  }
  fsStore.copyObject = async function copyObject(srcBucket, srcKey, destBucket, destKey, replacementMetadata) {
    // s3rver checked the source exists; a DELETE may have removed it since. Called on the store
    // itself, not the request's view (s3rver-request-context.ts): no suffix range, no unsent-body
    // tracking, so the body is destroyed here.
    const source = await fsStore.getObject(srcBucket, srcKey);
    if (source === null) throw new S3Error('NoSuchKey', 'The specified key does not exist.');
    const content = source.content ?? Readable.from([]);
    try {
      await fsStore.putObject({ bucket: destBucket, key: destKey, content, metadata: replacementMetadata ?? source.metadata });
    } finally {
      content.destroy();
    }
    return fsStore.getMetadata(destBucket, destKey);
  };
}
