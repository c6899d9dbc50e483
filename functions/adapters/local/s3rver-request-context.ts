/**
 * What one request to s3rver carries down to its store: the suffix range it asked for
 * (s3rver-suffix-range.ts) and the bodies the store opened for it (s3rver-unsent-bodies.ts).
 *
 * It travels as a view of the store made for the request (Object.create of the store, with the
 * request's record on it) and set as the request's `ctx.store`, through which s3rver's controllers
 * call the store (`ctx.store.getObject(...)`: `this` is the view). Not an AsyncLocalStorage: in
 * Node 22 its first `run` turns on promise hooks for the whole process, and every promise of the
 * farm (the AWS SDK's, the state machine's, the stage agents') was tracked from then on. That was
 * 10 to 16 % of `buildfarm run`'s CPU time (issue 12, docs/performance.md).
 * https://nodejs.org/docs/latest-v22.x/api/async_context.html
 */
import type { Readable } from 'node:stream';

const REQUEST = Symbol('buildfarm.s3rverRequest');

export interface S3rverRequest {
  /** N of a `Range: bytes=-N` the request asked for. */
  suffix?: number;
  /** The bodies the store opened while answering it. */
  opened: Readable[];
}

interface KoaContext {
  store: object;
}

/** The request's record, made (with its view of the store) by the first middleware that asks. */
export function requestOf(ctx: KoaContext): S3rverRequest {
  const current = (ctx.store as Partial<Record<typeof REQUEST, S3rverRequest>>)[REQUEST];
  if (current !== undefined && Object.prototype.hasOwnProperty.call(ctx.store, REQUEST)) return current;
  const request: S3rverRequest = { opened: [] };
  ctx.store = Object.create(ctx.store, { [REQUEST]: { value: request } }) as object;
  return request;
}

/** The request a store method was called for: its `this` when s3rver called it through the request's view. */
export function requestOfStore(store: unknown): S3rverRequest | undefined {
  return typeof store === 'object' && store !== null ? (store as Partial<Record<typeof REQUEST, S3rverRequest>>)[REQUEST] : undefined;
}
