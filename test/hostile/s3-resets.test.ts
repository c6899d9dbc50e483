/**
 * Fault (issue 11): in a flood of 1,000 signed deliveries, 4 builds ended
 * `error: aborted` in Plan. "aborted" is Node's error when a response's
 * connection closes mid-body. The SDK retries a request that fails, but not
 * the reading of a streamed GetObject body it has already handed over, so the
 * store resumes such a body from the byte it stopped at
 * (adapters/aws/resumable-body.ts). The faults come from a proxy in front of
 * s3rver that forwards its answer, then cuts the connection mid-body.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_RESUMES } from '../../functions/adapters/aws/resumable-body.js';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { createFarmContext } from '../../functions/local/farm-context.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { startFaultyS3Proxy, type FaultyS3Proxy, type RequestSeen } from './support/faulty-s3-proxy.js';

describe('Fault: S3 connections reset mid-answer (issue 11: builds ended `error: aborted` in Plan under load)', () => {
  let s3: RunningS3rver;
  let proxy: FaultyS3Proxy;
  let repo: TempRepo;
  let workRoot: string;
  const planGet = (r: RequestSeen) => r.method === 'GET' && r.url.split('?')[0]!.endsWith('/plan.json');

  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await startFaultyS3Proxy(s3.endpoint);
    repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  hello:\n    commands:\n      - echo hello\n' });
    workRoot = await mkdtemp(join(tmpdir(), 'hostile-reset-'));
  });
  afterAll(async () => {
    await proxy.close();
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });
  beforeEach(() => {
    proxy.setFault(undefined);
    proxy.broken.length = 0;
  });

  it('defends against a GetObject body cut mid-way (Node\'s "aborted"): the read resumes and the text arrives whole', async () => {
    // Prepare: 300 kB of text; the first two answers are cut after 1,000 bytes of body
    const store = new S3ArtifactStore(proxy.client, s3.bucket);
    const text = 'line of a plan\n'.repeat(20_000);
    await new S3ArtifactStore(s3.client, s3.bucket).put('reset/whole.txt', text);
    proxy.setFault({ matches: (r) => r.url.includes('/reset/whole.txt'), kind: 'cutResponse', afterBytes: 1000, times: 2 });

    // Act
    const read = await store.getText('reset/whole.txt');

    // Assess
    expect(proxy.broken).toHaveLength(2);
    expect(read).toBe(text);
  });

  it('defends against a body cut on every read: the error is the caller\'s after a bounded number of reads', async () => {
    // Prepare
    const store = new S3ArtifactStore(proxy.client, s3.bucket);
    await new S3ArtifactStore(s3.client, s3.bucket).put('reset/never.txt', 'x'.repeat(100_000));
    proxy.setFault({ matches: (r) => r.url.includes('/reset/never.txt'), kind: 'cutResponse', afterBytes: 1000 });

    // Act / Assess
    await expect(store.getText('reset/never.txt')).rejects.toThrow(/reset\/never\.txt.*aborted/);
    expect(proxy.broken).toHaveLength(1 + MAX_BODY_RESUMES);
  });

  it('defends against a reset while a step reads the plan: the build runs to its report, not `error: aborted`', async () => {
    // Prepare: a local build whose S3 is behind the faulty proxy, every step's client included (the
    // endpoint the counted stores use); the first read of plan.json (the Report step's) is cut
    const client = proxy.client;
    const farm = createFarmContext({
      dataDirectory: workRoot,
      s3: { endpoint: proxy.endpoint, bucket: s3.bucket, client, store: new S3ArtifactStore(client, s3.bucket), close: async () => undefined },
      reports: new RecordingNotifier(),
      repositories: [{ repository: 'octo-org/reset', path: repo.path }],
      region: 'us-east-1',
      prices: DEFAULT_PRICE_BOOK,
      lambdaEphemeralStorageMB: 512,
    });
    proxy.setFault({ matches: planGet, kind: 'cutResponse', afterBytes: 10, times: 1 });
    const request = { deliveryId: 'reset-1', event: 'push' as const, repository: 'octo-org/reset', cloneUrl: 'https://github.com/octo-org/reset.git', ref: 'refs/heads/main', branch: 'main', sha: repo.sha, fromFork: false, message: 'reset', sender: 'octocat', receivedAt: new Date().toISOString() };

    // Act
    const { report } = await runLocalBuild({ buildId: 'reset-1', request }, farm);

    // Assess
    expect(proxy.broken.filter(planGet)).toHaveLength(1);
    expect(report.status, JSON.stringify(report.error)).toBe('succeeded');
  }, 60_000);
});
