/**
 * Artifacts through the real stage agent against s3rver: one archive per stage, file
 * modes and in-workspace links kept, the archive checked on the way down.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { ArtifactManifest } from '../../functions/domain/report/types.js';
import { artifactArchiveKey, manifestKey } from '../../functions/domain/storage-keys.js';
import { runStage, type StageJob } from '../../functions/runner/agent.js';
import { ArtifactCorrupt } from '../../functions/runner/errors.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { makeNpmBinRepo } from '../support/npm-bin-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';

describe('Stage agent: faithful artifacts', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let npmRepo: TempRepo;
  const workRoots: string[] = [];
  let buildCounter = 0;
  let buildId: string;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'two-line repository\n' });
    npmRepo = await makeNpmBinRepo();
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(npmRepo.path, { recursive: true, force: true });
  });
  beforeEach(() => {
    buildCounter += 1;
    buildId = `faithful-${buildCounter}`;
  });
  afterEach(async () => {
    await Promise.all(workRoots.splice(0).map((root) => rm(root, { recursive: true, force: true })));
  });

  async function run(stage: Parameters<typeof plannedStage>[0], output = new CapturedOutput()) {
    const workRoot = await mkdtemp(join(tmpdir(), 'faithful-'));
    workRoots.push(workRoot);
    const job: StageJob = { buildId, stage: plannedStage(stage), runner: 'lambda', workRoot, deadline: Date.now() + 120_000 };
    const result = await runStage(job, { store, secrets: new MapSecrets({}), now: Date.now, output });
    return { result, output: output.text };
  }

  it('keeps an executable bit and a link inside the workspace: `./out/bin/tool` runs in the next stage', async () => {
    // Prepare
    await storeSnapshot(store, buildId, repo);
    const made = await run({
      name: 'make',
      commands: ["mkdir -p out/bin && printf '#!/bin/sh\\necho tool ran\\n' > out/tool", 'chmod +x out/tool; ln -s ../tool out/bin/tool'],
      artifacts: ['out/**'],
    });
    expect(made.result).toMatchObject({ status: 'succeeded', artifactCount: 2 });
    // Act
    const used = await run({ name: 'use', needs: ['make'], upstream: ['make'], artifactsFrom: ['make'], commands: ['./out/bin/tool', 'test -L out/bin/tool'] });
    // Assess
    expect(used.result, used.output).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(used.output).toContain('tool ran\n');
    const manifest = JSON.parse((await store.getText(manifestKey(buildId, 'make')))!) as ArtifactManifest;
    expect(manifest.artifacts).toEqual([
      { path: 'out/bin/tool', size: 0, mode: expect.any(Number), type: 'symlink', target: '../tool' },
      { path: 'out/tool', size: 24, mode: 0o755, type: 'file' },
    ]);
    // One archive for the stage, not one object per file.
    const stored: string[] = [];
    for await (const object of store.list(`builds/${buildId}/stages/make/`)) stored.push(object.key.split('/').pop()!);
    expect(stored.sort()).toEqual(['artifacts.tar', 'log.txt', 'manifest.json', 'result.json']);
  });

  it('npm ci -> artifacts: node_modules/** -> npm test runs the package through its node_modules/.bin link', async () => {
    // Prepare
    await storeSnapshot(store, buildId, npmRepo);
    const installed = await run({ name: 'install', commands: ['npm ci --offline --no-audit --no-fund'], artifacts: ['node_modules/**'] });
    expect(installed.result, installed.output).toMatchObject({ status: 'succeeded' });
    // Act
    const tested = await run({ name: 'test', needs: ['install'], upstream: ['install'], artifactsFrom: ['install'], commands: ['npm test'] });
    // Assess
    expect(tested.result, tested.output).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(tested.output).toContain('fake-tool ran with --check');
    const manifest = JSON.parse((await store.getText(manifestKey(buildId, 'install')))!) as ArtifactManifest;
    expect(manifest.artifacts).toContainEqual(expect.objectContaining({ path: 'node_modules/.bin/fake-tool', type: 'symlink', target: '../fake-tool/cli.js' }));
  });

  it('refuses a damaged archive on the way down with ArtifactCorrupt', async () => {
    // Prepare: a stage stores its archive, then the object is replaced by different bytes of the same size.
    await storeSnapshot(store, buildId, repo);
    await run({ name: 'make', commands: ['mkdir out && echo original > out/file.txt'], artifacts: ['out'] });
    const key = artifactArchiveKey(buildId, 'make');
    const bytes = Buffer.concat(await (await store.get(key))!.toArray());
    bytes[bytes.indexOf('original')] = 'O'.charCodeAt(0);
    await store.put(key, bytes);
    // Act
    const consuming = run({ name: 'use', needs: ['make'], upstream: ['make'], artifactsFrom: ['make'], commands: ['cat out/file.txt'] });
    // Assess
    await expect(consuming).rejects.toThrow(ArtifactCorrupt);
    await expect(consuming).rejects.toThrow(key);
  });

  it('fails the stage with UnsafeArtifactPath naming a link that leaves the workspace, storing no archive', async () => {
    // Prepare
    await storeSnapshot(store, buildId, repo);
    // Act
    const { result } = await run({ name: 'leak', commands: ['mkdir out && ln -s ../../home out/home && echo ok > out/ok'], artifacts: ['out'] });
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'UnsafeArtifactPath' });
    expect(result.reason).toContain('"out/home"');
    expect(await store.get(artifactArchiveKey(buildId, 'leak'))).toBeUndefined();
  });
});
