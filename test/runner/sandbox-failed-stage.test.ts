/**
 * A stage whose sandbox cannot start is the farm's failure: runStage throws SandboxFailed (an
 * infrastructure error), never a CommandFailed result that blames the stage's command, and
 * the log still goes up. bwrap is made to fail for real (a bind source that does not exist).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { stageLogKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { runStage } from '../../functions/runner/agent.js';
import { SandboxFailed } from '../../functions/runner/errors.js';
import type { BubblewrapSandbox } from '../../functions/runner/sandbox.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';

const sandbox = probeStageSandbox({ dataDirectory: tmpdir(), setting: undefined });

describe.skipIf(sandbox.kind !== 'bubblewrap')('Function: runStage, when the sandbox cannot start', () => {
  let s3: RunningS3rver;
  let repo: TempRepo;
  let workRoot: string;
  beforeAll(async () => {
    s3 = await startS3rver();
    repo = await makeGitRepo({ 'README.md': 'readme\n' });
    workRoot = await mkdtemp(join(tmpdir(), 'sandbox-failed-'));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });

  it.each([
    ['with its network (slirp4netns)', (probed: BubblewrapSandbox) => probed.network],
    ['without network', () => ({ kind: 'none' as const, reason: 'test' })],
  ])('throws SandboxFailed, not CommandFailed, and stores the log (%s)', async (_name, network) => {
    // Prepare
    const store = new S3ArtifactStore(s3.client, s3.bucket);
    const buildId = `sandbox-failed-${Math.random().toString(36).slice(2)}`;
    await storeSnapshot(store, buildId, repo);
    const probed = sandbox as BubblewrapSandbox;
    const broken: BubblewrapSandbox = { ...probed, network: network(probed), toolchain: [...probed.toolchain, join(workRoot, 'missing')] };
    const stage = plannedStage({ name: 'build', commands: ['exit 3'] });
    // Act
    const run = runStage(
      { buildId, stage, runner: 'lambda', workRoot: join(workRoot, buildId), deadline: Date.now() + 60_000, sandbox: broken },
      { store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() },
    );
    // Assess
    await expect(run).rejects.toBeInstanceOf(SandboxFailed);
    const log = (await store.getText(stageLogKey(buildId, 'build')))!;
    expect(log).toContain("Can't find source path");
    expect(log).toContain('== infrastructure error SandboxFailed');
    expect(await store.getText(stageResultKey(buildId, 'build'))).toBeUndefined();
  });
});
