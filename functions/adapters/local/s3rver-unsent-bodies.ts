/**
 * s3rver 3.7's GET Object opens the body before it checks `If-None-Match` and `If-Modified-Since`,
 * and on a 304 (or any error thrown after the read) it returns without closing it. Our reads stream
 * from an open FileHandle (s3rver-consistent-reads.ts), so each such answer left a file descriptor
 * open until garbage collection closed it (Node warns, DEP0137). This tracks the bodies the store
 * opens during a request and, once s3rver has answered, destroys those it did not send.
 * https://nodejs.org/api/deprecations.html#DEP0137
 */
import type { Readable } from 'node:stream';
import { requestOf, requestOfStore } from './s3rver-request-context.js';

interface KoaContext {
  body: unknown;
  store: object;
}
type Middleware = (ctx: KoaContext, next: () => Promise<void>) => Promise<void>;

/** Called by the store for each body it opens (`store`: the `this` of its method): destroyed after the answer unless it is the answer. */
export function releaseIfUnsent(store: unknown, body: Readable): void {
  requestOfStore(store)?.opened.push(body);
}

/** Puts the tracking first in an s3rver (a Koa app). */
export function addUnsentBodyRelease(server: unknown): void {
  const app = server as { middleware: Middleware[] };
  if (!Array.isArray(app.middleware)) throw new Error('s3rver changed: no Koa middleware list (see s3rver-unsent-bodies.ts)');
  app.middleware.unshift(async (ctx, next) => {
    const request = requestOf(ctx);
    try {
      await next();
    } finally {
      for (const body of request.opened) if (ctx.body !== body) body.destroy();
    }
  });
}
