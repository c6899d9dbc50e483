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

/**
 * A counted store for every local task, from a few warm clients: a task takes one, its count
 * starting from zero, and `close` gives it back (each client serves one task at a time, so the
 * counts stay exactly that task's). On AWS each function's client is warm too after its first
 * invocation. Clients past MAX_IDLE_CLIENTS are destroyed on `close`.
 */
export class CountedS3rverStores {
  private readonly idle: Array<{ client: S3Client; counter: S3RequestCounter }> = [];

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
      store: new S3ArtifactStore(entry.client, this.bucket),
      client: entry.client,
      requests: () => closedAt ?? requestsSince(before, entry.counter.snapshot()),
      close: () => {
        if (closedAt !== undefined) return;
        closedAt = requestsSince(before, entry.counter.snapshot());
        if (this.idle.length < MAX_IDLE_CLIENTS) this.idle.push(entry);
        else entry.client.destroy();
      },
    };
  }

  private fresh(): { client: S3Client; counter: S3RequestCounter } {
    const counter = new S3RequestCounter();
    return { client: counter.attach(s3rverClient(this.endpoint)), counter };
  }
}
