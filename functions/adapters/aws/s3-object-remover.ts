/**
 * Deletes one object: only the spend ledger's budget reservations are ever deleted by a deployed
 * function (adapters/s3-spend-ledger.ts), so this lives apart from the artifact store, and only
 * the Plan and Report functions, which the template allows s3:DeleteObject on spend/reserved/*,
 * import it. S3 answers 204 whether or not the key existed
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObject.html): a repeated delete is
 * harmless. DeleteObject is free (https://aws.amazon.com/s3/pricing/).
 */
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';

export type ObjectRemover = (key: string) => Promise<void>;

export function s3ObjectRemover(client: S3Client, bucket: string): ObjectRemover {
  return async function removeObject(key) {
    await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  };
}
