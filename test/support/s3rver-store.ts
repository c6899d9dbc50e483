/**
 * One s3rver, an S3ArtifactStore on it and a scratch directory for a whole test file:
 * started before its tests, stopped and removed after them. Read the fields inside tests
 * (they are set by `beforeAll`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { startS3rver, type RunningS3rver } from './s3rver.js';

export interface S3StoreFixture {
  readonly s3: RunningS3rver;
  readonly store: S3ArtifactStore;
  /** A fresh temporary directory, removed after the file's tests. */
  readonly dir: string;
}

export function useS3rverStore(directoryPrefix: string): S3StoreFixture {
  const fixture = {} as { s3: RunningS3rver; store: S3ArtifactStore; dir: string };
  beforeAll(async () => {
    fixture.s3 = await startS3rver();
    fixture.store = new S3ArtifactStore(fixture.s3.client, fixture.s3.bucket);
    fixture.dir = mkdtempSync(join(tmpdir(), directoryPrefix));
  });
  afterAll(async () => {
    await fixture.s3?.stop();
    if (fixture.dir) rmSync(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
