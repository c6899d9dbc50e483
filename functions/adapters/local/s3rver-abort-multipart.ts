/**
 * s3rver 3.7 has no AbortMultipartUpload: `DELETE /{bucket}/{key}?uploadId=...`
 * answers 405 MethodNotAllowed. The SDK's uploader aborts a failed multipart
 * upload before it rethrows, so locally the abort's 405 replaced the real reason
 * of every failed upload (a full disk read "The specified method is not allowed").
 * This answers it as S3 does: the upload's parts are removed and the reply is
 * 204 No Content (also for an upload that is already gone: S3 answers NoSuchUpload
 * 404 then, which the uploader would report instead of the real error).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_AbortMultipartUpload.html
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';

interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | string[] | undefined>;
  status: number;
  body: unknown;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface UploadsStore {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
}

/** Puts the abort handler first in an s3rver (a Koa app) whose store keeps uploads on disk. */
export function addAbortMultipartUpload(server: unknown): void {
  const app = server as { middleware: Middleware[]; store: UploadsStore };
  if (!Array.isArray(app.middleware) || typeof app.store?.getResourcePath !== 'function') {
    throw new Error('s3rver changed: no Koa middleware list or filesystem store (see s3rver-abort-multipart.ts)');
  }
  app.middleware.unshift(async (ctx, next) => {
    const uploadId = ctx.query.uploadId;
    const bucket = /^\/([^/]+)\/.+/.exec(ctx.path)?.[1];
    if (ctx.method !== 'DELETE' || typeof uploadId !== 'string' || bucket === undefined || !/^[A-Za-z0-9_-]+$/.test(uploadId)) return next();
    await rm(join(app.store.getResourcePath(bucket, undefined, 'uploads'), uploadId), { recursive: true, force: true });
    ctx.status = 204;
    ctx.body = null;
  });
}
