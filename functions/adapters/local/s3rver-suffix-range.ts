/**
 * s3rver 3.7 reads a suffix range, `Range: bytes=-N` (the last N bytes), as
 * `bytes=0-N`: it splits on `-` and takes the empty start for 0. S3 answers
 * the last N bytes (RFC 9110 suffix-byte-range-spec), so locally `curl -r
 * -65536` of a log gave its first 64 KiB, labelled `bytes 0-65536/...`. This
 * rewrites a suffix range into the equivalent `bytes=START-` from the object's
 * size before s3rver sees it (N at or past the size: the whole object, as S3
 * does; `bytes=-0` is left for s3rver to refuse).
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html#API_GetObject_RequestSyntax
 * https://www.rfc-editor.org/rfc/rfc9110#name-byte-ranges
 */
interface KoaContext {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

interface MetadataStore {
  getMetadata(bucket: string, key: string): Promise<Record<string, string>>;
}

/** Puts the suffix-range rewrite first in an s3rver (a Koa app) with a filesystem store. */
export function addSuffixRanges(server: unknown): void {
  const app = server as { middleware: Middleware[]; store: MetadataStore };
  if (!Array.isArray(app.middleware) || typeof app.store?.getMetadata !== 'function') {
    throw new Error('s3rver changed: no Koa middleware list or store metadata (see s3rver-suffix-range.ts)');
  }
  app.middleware.unshift(async (ctx, next) => {
    const range = ctx.headers.range;
    const suffix = typeof range === 'string' ? /^bytes=-(\d+)$/.exec(range.trim()) : null;
    const target = /^\/([^/]+)\/(.+)$/.exec(ctx.path);
    if ((ctx.method !== 'GET' && ctx.method !== 'HEAD') || suffix === null || target === null || Number(suffix[1]) === 0) return next();
    const size = await app.store
      .getMetadata(target[1]!, decodeURIComponent(target[2]!))
      .then((metadata) => Number(metadata['content-length']))
      .catch(() => undefined);
    // An absent object: s3rver answers NoSuchKey as usual.
    if (size !== undefined && Number.isFinite(size)) ctx.headers.range = `bytes=${Math.max(0, size - Number(suffix[1]))}-`;
    return next();
  });
}
