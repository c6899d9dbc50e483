/**
 * s3rver 3.7 reads a suffix range, `Range: bytes=-N` (the last N bytes), as
 * `bytes=0-N`: it splits on `-` and takes the empty start for 0. S3 answers
 * the last N bytes (RFC 9110 suffix-byte-range-spec), so locally `curl -r
 * -65536` of a log gave its first 64 KiB, labelled `bytes 0-65536/...`. This
 * hands s3rver `bytes=0-` instead (a range, from the start) and keeps N for the
 * request; the store's read (s3rver-consistent-reads.ts) starts at size - N of
 * the very file it opened, so an overwrite between looking up the size and
 * opening the file cannot shift the range. N at or past the size: the whole
 * object, as S3 does; `bytes=-0` is left for s3rver to refuse.
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 * https://www.rfc-editor.org/rfc/rfc9110#name-byte-ranges
 */
import { requestOf, requestOfStore } from './s3rver-request-context.js';

interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  store: object;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** The suffix length (N of `bytes=-N`) the request asked for, given the `this` of the store method answering it. */
export function requestedSuffix(store: unknown): number | undefined {
  return requestOfStore(store)?.suffix;
}

/** Puts the suffix-range rewrite first in an s3rver (a Koa app). */
export function addSuffixRanges(server: unknown): void {
  const app = server as { middleware: Middleware[] };
  if (!Array.isArray(app.middleware)) {
    throw new Error('s3rver changed: no Koa middleware list (see s3rver-suffix-range.ts)');
  }
  app.middleware.unshift(async (ctx, next) => {
    const range = ctx.headers.range;
    const suffix = typeof range === 'string' ? /^bytes=-(\d+)$/.exec(range.trim()) : null;
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || suffix === null || Number(suffix[1]) === 0) return next();
    ctx.headers.range = 'bytes=0-';
    requestOf(ctx).suffix = Number(suffix[1]);
    return next();
  });
}
