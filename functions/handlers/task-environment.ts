/**
 * What the state machine's task functions (plan, schedule, report) read from their
 * environment on AWS, set by template.yaml. Clients are made once per sandbox and reused by
 * warm invocations.
 *
 * - `ARTIFACT_BUCKET` (required): the build bucket.
 * - `AWS_REGION` (set by Lambda): prices and the planner's region.
 * - `PRICES_JSON` (optional): a price override, merged into the default price book.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { S3RequestCounter } from '../adapters/aws/s3-request-counter.js';
import { mergePriceBook } from '../domain/pricing/override.js';
import { DEFAULT_PRICE_BOOK, type PriceBook } from '../domain/pricing/price-book.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

export class MissingSetting extends Error {
  override readonly name = 'MissingSetting';
}

export function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new MissingSetting(`environment variable ${name} is not set`);
  return value;
}

let store: ArtifactStore | undefined;
let client: S3Client | undefined;
/**
 * Counts every S3 request of this sandbox's client. A Lambda sandbox runs one invocation at a
 * time, so an invocation's requests are the difference between two snapshots.
 */
const requests = new S3RequestCounter();

/** The sandbox's S3 client, counted (the artifact store's). */
export function artifactClient(): S3Client {
  client ??= requests.attach(new S3Client({}));
  return client;
}

export function artifactStore(): ArtifactStore {
  store ??= new S3ArtifactStore(artifactClient(), requiredEnv('ARTIFACT_BUCKET'));
  return store;
}

export function s3RequestCounter(): S3RequestCounter {
  return requests;
}

export function region(): string {
  return requiredEnv('AWS_REGION');
}

export function priceBook(): PriceBook {
  const override = process.env.PRICES_JSON;
  return override ? mergePriceBook(DEFAULT_PRICE_BOOK, JSON.parse(override) as unknown, 'PRICES_JSON') : DEFAULT_PRICE_BOOK;
}
