import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { S3RequestCounter, s3RequestTier } from '../../../functions/adapters/aws/s3-request-counter.js';
import { s3rverClient } from '../../../functions/adapters/local/s3rver-client.js';
import { S3HistoryStore } from '../../../functions/adapters/s3-history-store.js';
import { publishRequests } from '../../../functions/domain/report/publish-requests.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';
import { startTallyProxy, type TallyProxy } from '../../support/s3-request-tally-proxy.js';

/** S3 bills what its servers receive: the client's count is held to a count taken at the server. */
describe('Class: S3RequestCounter', () => {
  let s3: RunningS3rver;
  let proxy: TallyProxy;

  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await startTallyProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy.close();
    await s3.stop();
  });

  function countedStore() {
    const counter = new S3RequestCounter();
    const client = counter.attach(s3rverClient(proxy.endpoint));
    return { counter, client, store: new S3ArtifactStore(client, s3.bucket) };
  }

  it('classifies operations by the tier S3 bills them at (DELETE and abort free)', () => {
    expect(['PutObjectCommand', 'CopyObjectCommand', 'ListObjectsV2Command', 'CreateMultipartUploadCommand', 'UploadPartCommand', 'CompleteMultipartUploadCommand'].map(s3RequestTier)).toEqual(Array(6).fill('tier1'));
    expect(['GetObjectCommand', 'HeadObjectCommand'].map(s3RequestTier)).toEqual(['tier2', 'tier2']);
    expect(['DeleteObjectCommand', 'AbortMultipartUploadCommand'].map(s3RequestTier)).toEqual(['free', 'free']);
  });

  it('counts every request the server receives, multipart parts included, as the server counts them', async () => {
    // Prepare
    const { counter, client, store } = countedStore();
    proxy.reset();

    // Act: a small PUT, a 20 MiB upload (multipart in 8 MiB parts), reads, a miss and a listing.
    await store.put('count/small.txt', 'hello', 'text/plain');
    await store.put('count/big.bin', Buffer.alloc(20 * 1024 * 1024, 7));
    await store.getText('count/small.txt');
    await store.getText('count/missing.txt');
    for await (const _ of store.list('count/')) void _;

    // Assess: PUT + (Create + 3 UploadPart + Complete) + LIST = 7 tier 1; GET + GET(404) = 2 tier 2.
    expect(counter.snapshot()).toEqual({ put: 7, get: 2 });
    expect({ put: proxy.tally.tier1, get: proxy.tally.tier2 }).toEqual(counter.snapshot());
    expect(counter.commands()).toMatchObject({ UploadPartCommand: 3, CreateMultipartUploadCommand: 1, CompleteMultipartUploadCommand: 1 });
    client.destroy();
  });

  it('holds the requests publishing a report makes to publishRequests', async () => {
    // Prepare: one stage with history already, one without, one skipped (no history written).
    const { counter, client, store } = countedStore();
    const history = new S3HistoryStore(store);
    await history.recordRun('octo/app', 'old', { durationMs: 1, peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false });
    const before = counter.snapshot();
    proxy.reset();

    // Act: what publishReport does with the store: report.json, report.txt, the history of each stage that ran.
    await store.put('builds/b/report.json', '{}', 'application/json');
    await store.put('builds/b/report.txt', 'text', 'text/plain');
    await history.recordRun('octo/app', 'old', { durationMs: 2, peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false });
    await history.recordRun('octo/app', 'new', { durationMs: 3, peakMemoryMiB: 1, peakDiskMiB: 1, escalated: false });

    // Assess
    const made = counter.since(before);
    expect(made).toEqual(publishRequests(['succeeded', 'failed', 'skipped'], true));
    expect({ put: proxy.tally.tier1, get: proxy.tally.tier2 }).toEqual(made);
    client.destroy();
  });
});
