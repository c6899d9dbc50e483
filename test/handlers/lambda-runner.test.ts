import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { planKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { plannedStage, storeSnapshot } from '../support/stages.js';

/** Only what the runner reads from the Lambda context is real here. */
function fakeContext(remainingMs: number): Context {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now(), memoryLimitInMB: '2048' } as unknown as Context;
}

describe('Function: handler (lambda-runner)', () => {
  let s3: RunningS3rver;
  let repo: TempRepo;
  let tmpRoot: string;
  const buildId = 'handler-build';

  beforeAll(async () => {
    s3 = await startS3rver();
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'hello\n' });
    await storeSnapshot(store, buildId, repo);
    const plan: Plan = {
      version: 1,
      waves: [['hello']],
      stages: [plannedStage({ name: 'hello', commands: ['cat README.md'] })],
      skipped: [],
      failFast: true,
      cancelSuperseded: false,
      region: 'us-east-1',
      predictedCostUsd: 0,
    };
    await store.put(planKey(buildId), JSON.stringify(plan));
    tmpRoot = await mkdtemp(join(tmpdir(), 'handler-tmp-'));
    // The handler builds its clients from the environment, as on AWS (an IP endpoint means path-style addressing).
    vi.stubEnv('ARTIFACT_BUCKET', s3.bucket);
    vi.stubEnv('EPHEMERAL_STORAGE_MB', '512');
    vi.stubEnv('RUNNER_TMP_DIR', tmpRoot);
    vi.stubEnv('AWS_ENDPOINT_URL_S3', s3.endpoint);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'S3RVER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
    vi.stubEnv('AWS_REQUEST_CHECKSUM_CALCULATION', 'WHEN_REQUIRED');
    vi.stubEnv('AWS_RESPONSE_CHECKSUM_VALIDATION', 'WHEN_REQUIRED');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(tmpRoot, { recursive: true, force: true });
  });

  it('runs the stage named in the event from the plan in S3 and returns its result', async () => {
    // Prepare
    const { handler } = await import('../../functions/handlers/lambda-runner.js');
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    // Act
    const result = await handler({ buildId, stageName: 'hello', planKey: planKey(buildId) }, fakeContext(60_000));
    vi.restoreAllMocks();
    // Assess
    expect(result).toMatchObject({ buildId, stage: 'hello', status: 'succeeded', runner: 'lambda', exitCode: 0 });
    const stored = await new S3ArtifactStore(s3.client, s3.bucket).getText(stageResultKey(buildId, 'hello'));
    expect(JSON.parse(stored!)).toEqual(result);
    expect(await readdir(tmpRoot)).toEqual([]);
  });
});
