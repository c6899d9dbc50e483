/**
 * A store on the embedded S3 whose client counts its requests (adapters/aws/s3-request-counter.ts),
 * one per local task or invocation, as each Lambda invocation and each Fargate container has its
 * own client on AWS: the local farm's costs count S3 requests the same way.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { S3RequestCount } from '../../domain/report/cost-model.js';
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

export function countedS3rverStore(endpoint: string, bucket: string): CountedStore {
  const counter = new S3RequestCounter();
  const client = counter.attach(s3rverClient(endpoint));
  return { store: new S3ArtifactStore(client, bucket), client, requests: () => counter.snapshot(), close: () => client.destroy() };
}
