/**
 * A store on the embedded S3 whose client counts its requests (adapters/aws/s3-request-counter.ts),
 * one per local task or invocation, as each Lambda invocation and each Fargate container has its
 * own client on AWS: the local farm's costs count S3 requests the same way.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { requestsSince, type S3RequestCount } from '../../domain/report/cost-model.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { S3ArtifactStore } from '../aws/s3-artifact-store.js';
import { S3RequestCounter } from '../aws/s3-request-counter.js';
import { s3rverClient } from './s3rver-client.js';

export interface CountedStore {
  store: ArtifactStore;
  /** The counted client itself, for adapters that take a client (HelperBundleStore). */
  client: S3Client;
  /** The requests made through `store` so far. */
  requests(): S3RequestCount;
  close(): void;
}

/** Counted stores kept for reuse: a fresh SDK client's first request costs 3 to 7 ms more than a warm one's. */
const MAX_IDLE_CLIENTS = 8;

interface PooledClient {
  client: S3Client;
  counter: S3RequestCounter;
  /**
   * Work not yet settled: SDK commands (their retries included), and the store's operations from
   * their call until they settle (an upload gathers a small body before its first request; a read's
   * stream may ask again after a cut until it closes).
   */
  inFlight: number;
}

/** `work`, counted in flight on `entry` until it settles. */
async function inFlight<T>(entry: PooledClient, work: () => Promise<T>): Promise<T> {
  entry.inFlight += 1;
  try {
    return await work();
  } finally {
    entry.inFlight -= 1;
  }
}

/** `store`, counting its operations in flight on `entry` until they settle (a stream: until it closes). */
function tracked(store: ArtifactStore, entry: PooledClient): ArtifactStore {
  const during = <T>(work: () => Promise<T>) => inFlight(entry, work);
  return {
    put: (key, body, contentType) => during(() => store.put(key, body, contentType)),
    getText: (key) => during(() => store.getText(key)),
    get: async (key) => {
      entry.inFlight += 1;
      const stream = await store.get(key).catch((error: unknown) => {
        entry.inFlight -= 1;
        throw error;
      });
      if (stream === undefined || stream.destroyed) entry.inFlight -= 1;
      else stream.once('close', () => (entry.inFlight -= 1));
      return stream;
    },
    ...(store.read ? { read: (key: string, range?: Parameters<NonNullable<ArtifactStore['read']>>[1]) => during(() => store.read!(key, range)) } : {}),
    list: (prefix) => ({
      async *[Symbol.asyncIterator]() {
        entry.inFlight += 1;
        try {
          yield* store.list(prefix);
        } finally {
          entry.inFlight -= 1;
        }
      },
    }),
  };
}

/**
 * A counted store for every local task, from a few warm clients: a task takes one, its count
 * starting from zero, and `close` gives it back (each client serves one task at a time, so the
 * counts stay exactly that task's). On AWS each function's client is warm too after its first
 * invocation. Clients past MAX_IDLE_CLIENTS, and a client still sending when its task closes it,
 * are destroyed on `close`. Idle clients hold only keep-alive sockets, which s3rver closes when it
 * stops.
 */
export class CountedS3rverStores {
  private readonly idle: PooledClient[] = [];

  constructor(
    private readonly endpoint: string,
    private readonly bucket: string,
  ) {}

  take(): CountedStore {
    const entry = this.idle.pop() ?? this.fresh();
    const before = entry.counter.snapshot();
    // Its count stops at `close`: the client's next task counts its own.
    let closedAt: S3RequestCount | undefined;
    return {
      store: tracked(new S3ArtifactStore(entry.client, this.bucket), entry),
      client: entry.client,
      requests: () => closedAt ?? requestsSince(before, entry.counter.snapshot()),
      close: () => {
        if (closedAt !== undefined) return;
        closedAt = requestsSince(before, entry.counter.snapshot());
        // A task may give up on work without stopping it (runner/before-deadline.ts: an upload past the
        // deadline): a client still sending is destroyed, as every client was before, never lent on,
        // so no later task pays for its requests.
        if (entry.inFlight === 0 && this.idle.length < MAX_IDLE_CLIENTS) this.idle.push(entry);
        else entry.client.destroy();
      },
    };
  }

  private fresh(): PooledClient {
    const counter = new S3RequestCounter();
    const entry: PooledClient = { client: counter.attach(s3rverClient(this.endpoint)), counter, inFlight: 0 };
    // Commands sent through the raw client too (HelperBundleStore takes it), their retries included.
    entry.client.middlewareStack.add((next) => (args) => inFlight(entry, () => next(args)), { step: 'initialize', name: 'buildfarmInFlight', override: true });
    return entry;
  }
}
