/**
 * Deletes every object under a prefix of the local farm's embedded S3 (retention:
 * `buildfarm gc`). Local only on purpose: no function deployed to AWS deletes builds
 * (the template grants DeleteObject only on budget reservations, spend/reserved/*; the
 * bucket's lifecycle rules expire builds there). DeleteObjects takes at most 1,000 keys per request:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html
 */
import { DeleteObjectsCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';

export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let deleted = 0;
  let batch: string[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const response = await client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }));
    const failed = response.Errors ?? [];
    if (failed.length > 0) throw new Error(`could not delete ${failed.length} object(s) under ${prefix}: ${failed[0].Key}: ${failed[0].Code} ${failed[0].Message ?? ''}`.trim());
    deleted += batch.length;
    batch = [];
  };
  for await (const page of paginateListObjectsV2({ client }, { Bucket: bucket, Prefix: prefix })) {
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      batch.push(object.Key);
      if (batch.length === 1000) await flush();
    }
  }
  await flush();
  return deleted;
}
