/**
 * Telling a missing S3 object from a forbidden one. S3 answers a GetObject or HeadObject of a
 * missing key with 404 only when the caller may `s3:ListBucket` on the bucket; otherwise with
 * 403 AccessDenied (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html,
 * "Permissions"). The control-plane roles hold plain ListBucket, so they get 404. Roles near user
 * code may list only under their prefixes (an `s3:prefix` condition, which a GetObject request
 * does not carry): for them a 403 is ambiguous, and one ListObjectsV2 with the key as its prefix,
 * which such a condition allows, settles it. A 403 stays an error unless that listing shows the
 * key is not there.
 */
import { ListObjectsV2Command, NoSuchKey, NotFound, type S3Client } from '@aws-sdk/client-s3';

interface ErrorLike {
  name?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number };
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  const e = error as ErrorLike | null;
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.Code === 'NoSuchKey';
}

export function isAccessDenied(error: unknown): boolean {
  const e = error as ErrorLike | null;
  // HeadObject answers have no body: the SDK names a bare 403 "Forbidden".
  return e?.name === 'AccessDenied' || e?.Code === 'AccessDenied' || (e?.name === 'Forbidden' && e.$metadata?.httpStatusCode === 403);
}

/**
 * Whether `key` is absent, for a read that failed with `error`: true for 404, and for a 403 when
 * a listing under the key shows no such object; false when the error means something else (the
 * caller rethrows it), including a 403 on an object that exists or a listing that is denied too.
 */
export async function isAbsent(client: S3Client, bucket: string, key: string, error: unknown): Promise<boolean> {
  if (isNotFound(error)) return true;
  if (!isAccessDenied(error)) return false;
  try {
    // The key sorts first among the keys it prefixes, so one result answers.
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key, MaxKeys: 1 }));
    return listed.Contents?.[0]?.Key !== key;
  } catch {
    return false;
  }
}
