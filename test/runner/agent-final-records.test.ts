/**
 * The records a stage ends with: its log and its manifest go up at once (one round trip fewer per
 * stage, on AWS as locally), and its result, which points at both, only after both are stored.
 * Against s3rver through the AWS SDK, with the store held or refusing at chosen keys.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { manifestKey, stageLogKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import { runStage } from '../../functions/runner/agent.js';
import { ResultUploadFailed } from '../../functions/runner/errors.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';

describe('Stage agent: the final records', () => {
  let s3: RunningS3rver;
  let real: S3ArtifactStore;
  let repo: TempRepo;

  beforeAll(async () => {
    s3 = await startS3rver();
    real = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'a.txt': 'a\n' });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });

  /** The real store, with `put` replaced. */
  function storeWith(put: ArtifactStore['put']): ArtifactStore {
    return { put, get: (key) => real.get(key), getText: (key) => real.getText(key), list: (prefix) => real.list(prefix) };
  }

  async function run(buildId: string, store: ArtifactStore) {
    await storeSnapshot(real, buildId, repo);
    const workRoot = await mkdtemp(join(tmpdir(), 'agent-records-'));
    try {
      const stage = plannedStage({ name: 'build', commands: ['cp a.txt out.txt'], artifacts: ['out.txt'] });
      return await runStage({ buildId, stage, runner: 'lambda', workRoot, deadline: Date.now() + 60_000 }, { store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() });
    } finally {
      await rm(workRoot, { recursive: true, force: true });
    }
  }

  it('stores the manifest while the log is still being stored, and the result after both', async () => {
    // Prepare: the log's PUT waits until the manifest's has started
    let manifestStarted!: () => void;
    const manifestPut = new Promise<void>((resolve) => (manifestStarted = resolve));
    const order: string[] = [];
    const store = storeWith(async (key, body, type) => {
      order.push(key);
      if (key === manifestKey('held', 'build')) manifestStarted();
      if (key === stageLogKey('held', 'build')) await manifestPut;
      await real.put(key, body, type);
      order.push(`stored ${key}`);
    });

    // Act
    const result = await run('held', store);

    // Assess
    expect(result.status).toBe('succeeded');
    const resultAt = order.indexOf(stageResultKey('held', 'build'));
    expect(resultAt).toBeGreaterThan(order.indexOf(`stored ${stageLogKey('held', 'build')}`));
    expect(resultAt).toBeGreaterThan(order.indexOf(`stored ${manifestKey('held', 'build')}`));
    expect(await real.getText(stageResultKey('held', 'build'))).toContain('"succeeded"');
  });

  it('stores no result when the log cannot be stored, and says which record failed', async () => {
    // Prepare
    const store = storeWith((key, body, type) => (key === stageLogKey('nolog', 'build') ? Promise.reject(new Error('Access Denied')) : real.put(key, body, type)));

    // Act
    const error = await run('nolog', store).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ResultUploadFailed);
    expect((error as Error).message).toContain(stageLogKey('nolog', 'build'));
    expect(await real.getText(stageResultKey('nolog', 'build'))).toBeUndefined();
  });
});
