import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { ArtifactManifest, StageResult } from '../../functions/domain/report/types.js';
import type { ArtifactStore } from '../../functions/ports/artifact-store.js';
import {
  artifactArchiveKey,
  manifestKey,
  sourceKey,
  stageLogKey,
  stageResultKey,
} from '../../functions/domain/storage-keys.js';
import { raiseForResult, runStage, type StageJob } from '../../functions/runner/agent.js';
import { ArtifactUploadFailed, CommandFailed, SecretUnavailable, SnapshotMissing, StageTimeout } from '../../functions/runner/errors.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { file, makeTarGz } from '../support/tarballs.js';
import { CapturedOutput, MapSecrets, plannedStage, secretRef, storeSnapshot } from '../support/stages.js';

describe('Function: runStage', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let workRoot: string;
  let buildCounter = 0;
  let buildId: string;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({
      'README.md': 'readme\n',
      'src/greeting.txt': 'hello from the repo\n',
      'build.sh': '#!/bin/sh\nmkdir -p dist && cp src/greeting.txt dist/app.txt\n',
    });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    buildCounter += 1;
    buildId = `build-${buildCounter}`;
    workRoot = await mkdtemp(join(tmpdir(), 'agent-'));
    await storeSnapshot(store, buildId, repo);
  });
  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  function job(stage: Parameters<typeof plannedStage>[0], extra: Partial<StageJob> = {}): StageJob {
    return {
      buildId,
      stage: plannedStage(stage),
      runner: 'lambda',
      workRoot,
      deadline: Date.now() + 60_000,
      ...extra,
    };
  }
  function deps(output = new CapturedOutput(), secrets = new MapSecrets({})) {
    return { store, secrets, now: Date.now, output };
  }

  it('runs the commands in order in the source workspace, echoing each, and stores artifacts, manifest, log and result', async () => {
    // Prepare
    const output = new CapturedOutput();
    const stageJob = job({
      name: 'build',
      commands: ['./build.sh', 'echo "stage=$BUILDFARM_STAGE mode=$MODE"'],
      env: { MODE: 'release' },
      artifacts: ['dist/**'],
    });
    // Act
    const result = await runStage(stageJob, deps(output));
    // Assess
    expect(result).toMatchObject({
      buildId,
      stage: 'build',
      status: 'succeeded',
      runner: 'lambda',
      exitCode: 0,
      artifactCount: 1,
      artifactBytes: 20,
      logKey: stageLogKey(buildId, 'build'),
      manifestKey: manifestKey(buildId, 'build'),
    });
    expect(result.errorName).toBeUndefined();
    expect(output.text).toContain('$ ./build.sh\n');
    expect(output.text.indexOf('$ ./build.sh')).toBeLessThan(output.text.indexOf('$ echo'));
    expect(output.text).toContain('stage=build mode=release\n');
    const manifest = JSON.parse((await store.getText(manifestKey(buildId, 'build')))!) as ArtifactManifest;
    expect(manifest.artifacts).toEqual([{ path: 'dist/app.txt', size: 20, mode: 0o644, type: 'file' }]);
    const archive = await store.get(artifactArchiveKey(buildId, 'build'));
    const archiveBytes = Buffer.concat(await archive!.toArray());
    expect(manifest.archive).toEqual({
      key: artifactArchiveKey(buildId, 'build'),
      sha256: createHash('sha256').update(archiveBytes).digest('hex'),
      bytes: archiveBytes.length,
      compression: 'none',
    });
    expect(archiveBytes.includes('hello from the repo\n')).toBe(true);
    expect(await store.getText(stageLogKey(buildId, 'build'))).toBe(output.text);
    expect(JSON.parse((await store.getText(stageResultKey(buildId, 'build')))!)).toEqual(result);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(256 * 1024);
    expect(result.peakDiskMiB).toBeGreaterThan(0);
  });

  it('stops at the first failing command, records its exit code and still stores the log', async () => {
    // Prepare
    const output = new CapturedOutput();
    const stageJob = job({ name: 'test', commands: ['echo first', 'echo oops >&2; exit 3', 'echo never'] });
    // Act
    const result = await runStage(stageJob, deps(output));
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'CommandFailed', exitCode: 3 });
    expect(output.text).toContain('oops');
    expect(output.text).not.toContain('$ echo never');
    const log = await store.getText(stageLogKey(buildId, 'test'));
    expect(log).toContain('oops');
    expect(() => raiseForResult(result)).toThrow(CommandFailed);
    try {
      raiseForResult(result);
    } catch (error) {
      expect((error as CommandFailed).exitCode).toBe(3);
      expect((error as Error).name).toBe('CommandFailed');
    }
  });

  it.each([
    ['a grandchild in the process group', 'sleep 300 & echo $! > grandchild.pid; wait'],
    ['a grandchild that left the group with setsid', 'setsid sleep 300 & echo $! > grandchild.pid; wait'],
  ])('kills the whole process tree at the deadline: %s', async (_label, command) => {
    // Prepare: the shell starts a background sleep (a grandchild of the agent) and waits on it
    const stageJob = job({ name: 'slow', commands: [command] }, { deadline: Date.now() + 1_500 });
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'timed_out', errorName: 'StageTimeout', exitCode: null });
    expect(() => raiseForResult(result)).toThrow(StageTimeout);
    const pid = Number(readFileSync(join(workRoot, 'workspace', 'grandchild.pid'), 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(isAlive(pid)).toBe(false);
  });

  it('stops the whole process tree when the build is stopped, and ends the stage cancelled with its log stored', async () => {
    // Prepare: a stage whose command waits on a grandchild; the build is stopped once it runs
    const controller = new AbortController();
    const stageJob = job({ name: 'stopped', commands: ['sleep 300 & echo $! > grandchild.pid; wait', 'echo never'] }, { signal: controller.signal });
    setTimeout(() => controller.abort(), 1_000).unref();
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'cancelled', errorName: 'StageCancelled', exitCode: null });
    const pid = Number(readFileSync(join(workRoot, 'workspace', 'grandchild.pid'), 'utf8'));
    expect(isAlive(pid)).toBe(false);
    const log = await store.getText(result.logKey);
    expect(log).toContain('StageCancelled');
    expect(log).not.toContain('$ echo never');
  });

  it('times out while the workspace is still downloading, rather than running into the runner\'s hard limit', async () => {
    // Prepare: a store that takes 30 s to start sending the snapshot
    const slow: ArtifactStore = {
      put: (key, body, type) => store.put(key, body, type),
      get: async (key) => {
        if (key.endsWith('source.tar.gz')) await new Promise((resolve) => setTimeout(resolve, 30_000).unref());
        return store.get(key);
      },
      getText: (key) => store.getText(key),
      list: (prefix) => store.list(prefix),
    };
    const stageJob = job({ name: 'late', commands: ['echo never'] }, { deadline: Date.now() + 1_000 });
    // Act
    const result = await runStage(stageJob, { ...deps(), store: slow });
    // Assess
    expect(result).toMatchObject({ status: 'timed_out', errorName: 'StageTimeout' });
    expect(result.reason).toContain('preparing the workspace');
  });

  it('reports a command killed by SIGKILL it did not send as OutOfMemory (what the OOM killer does)', async () => {
    // Act
    const result = await runStage(job({ name: 'oom', commands: ['kill -9 $$'] }), deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfMemory', exitCode: null });
  });

  it('stops a stage that fills the disk past its limit with OutOfDisk', async () => {
    // Prepare
    const stageJob = job(
      { name: 'fill', commands: ['head -c 20000000 /dev/zero > filler.bin; sleep 30'] },
      { diskLimitMiB: 8 },
    );
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfDisk' });
    expect(result.peakDiskMiB).toBeGreaterThan(8);
  });

  it('fails a short command that leaves the stage over its disk limit with OutOfDisk', async () => {
    // Prepare: the command is done long before the next disk sample
    const stageJob = job({ name: 'quickfill', commands: ['head -c 20000000 /dev/zero > filler.bin', 'echo never'] }, { diskLimitMiB: 8 });
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfDisk' });
    expect(result.reason).toContain('head -c 20000000');
  });

  it('stops a stage whose processes grow past the memory limit with OutOfMemory', async () => {
    // Prepare: a child node process holding 200 MB, against a 100 MiB limit
    const hog = `"${process.execPath}" -e "globalThis.keep = Buffer.alloc(200e6, 1); setTimeout(() => {}, 30000)"`;
    const stageJob = job({ name: 'hog', commands: [hog] }, { memoryLimitMiB: 100 });
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfMemory' });
    expect(result.peakMemoryMiB).toBeGreaterThan(100);
  });

  it('masks secret values in the live output and the stored log, even when split across two writes', async () => {
    // Prepare
    const output = new CapturedOutput();
    const secrets = new MapSecrets({ 'prod/token': 'hunter2-very-secret' });
    const stageJob = job({
      name: 'deploy',
      secrets: { TOKEN: secretRef('prod/token') },
      // The halves come from plain variables, so only the output (never the echoed command) holds the secret.
      env: { FIRST: 'hunter2-', SECOND: 'very-secret' },
      commands: ['echo "token is $TOKEN"', 'printf "half: %s" "$FIRST"; sleep 0.3; printf "%s done\\n" "$SECOND"'],
    });
    // Act
    const result = await runStage(stageJob, deps(output, secrets));
    // Assess
    expect(result.status).toBe('succeeded');
    const log = (await store.getText(stageLogKey(buildId, 'deploy')))!;
    for (const text of [output.text, log]) {
      expect(text).not.toContain('hunter2');
      expect(text).not.toContain('very-secret');
      expect(text).toContain('token is ***\n');
      expect(text).toContain('half: *** done\n');
    }
  });

  it('refuses secrets to a pull request from a fork without reading them', async () => {
    // Prepare
    const secrets = new MapSecrets({ 'prod/token': 'value' });
    const stageJob = job(
      { name: 'deploy', secrets: { TOKEN: secretRef('prod/token') }, commands: ['echo hi'] },
      { fromFork: true },
    );
    // Act
    const result = await runStage(stageJob, deps(new CapturedOutput(), secrets));
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'SecretsDeniedForFork' });
    expect(secrets.asked).toEqual([]);
  });

  it('throws SecretUnavailable (infrastructure) when a secret cannot be read, after storing the log', async () => {
    // Prepare
    const stageJob = job({ name: 'deploy', secrets: { TOKEN: secretRef('missing') }, commands: ['echo hi'] });
    // Act
    const error = await runStage(stageJob, deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SecretUnavailable);
    expect(await store.getText(stageLogKey(buildId, 'deploy'))).toContain('SecretUnavailable');
    expect(await store.getText(stageResultKey(buildId, 'deploy'))).toBeUndefined();
  });

  it('fails the stage with UnsafeArchive for a hostile snapshot, writing nothing outside its work root', async () => {
    // Prepare: a snapshot whose second entry climbs out of the workspace
    const hostile = await makeTarGz([file('top/ok.txt', 'ok'), file('top/../../../escaped-by-snapshot.txt', 'x')]);
    await store.put(sourceKey(buildId), hostile);
    // Act
    const result = await runStage(job({ name: 'build', commands: ['echo never'] }), deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'UnsafeArchive', exitCode: null });
    expect(result.reason).toContain('top/../../../escaped-by-snapshot.txt');
    expect(existsSync(join(workRoot, '..', 'escaped-by-snapshot.txt'))).toBe(false);
    expect(existsSync(join(workRoot, 'escaped-by-snapshot.txt'))).toBe(false);
  });

  it('throws SnapshotMissing when the build has no snapshot', async () => {
    // Prepare
    const stageJob = { ...job({ name: 'build', commands: ['true'] }), buildId: 'no-such-build' };
    // Act
    const error = await runStage(stageJob, deps()).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(SnapshotMissing);
    expect((error as Error).name).toBe('SnapshotMissing');
  });

  it.each([
    ['a glob with ..', [], ['../x']],
    ['an absolute glob', [], ['/etc/passwd']],
    ['a link to /etc', ['ln -s /etc etc'], ['etc']],
    ['a link to a file outside', ['ln -s /etc/passwd passwd'], ['passwd']],
    ['a link outside found by **', ['mkdir out && ln -s /etc/hostname out/host'], ['out/**']],
  ])('fails the stage with UnsafeArtifactPath for %s, uploading nothing', async (_label, commands, artifacts) => {
    // Prepare
    const stageJob = job({ name: 'hostile', commands: ['true', ...commands], artifacts });
    // Act
    const result = await runStage(stageJob, deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'UnsafeArtifactPath', artifactCount: 0 });
    const stored: string[] = [];
    for await (const object of store.list(`builds/${buildId}/stages/hostile/artifacts`)) stored.push(object.key);
    expect(stored).toEqual([]);
  });

  it('brings the artifacts of upstream stages into a downstream workspace at the same paths', async () => {
    // Prepare: `build` produces dist/app.txt
    const built = await runStage(job({ name: 'build', commands: ['./build.sh'], artifacts: ['dist'] }), deps());
    expect(built.status).toBe('succeeded');
    await rm(workRoot, { recursive: true, force: true });
    workRoot = await mkdtemp(join(tmpdir(), 'agent-'));
    const output = new CapturedOutput();
    // Act
    const result = await runStage(
      job({ name: 'package', upstream: ['build'], commands: ['cat dist/app.txt'], needs: ['build'] }),
      deps(output),
    );
    // Assess
    expect(result.status).toBe('succeeded');
    expect(output.text).toContain('hello from the repo\n');
    expect(existsSync(join(workRoot, 'workspace', 'dist', 'app.txt'))).toBe(true);
  });

  it('records where the stage\'s time went: snapshot, upstream artifacts, commands and artifact upload, within its duration', async () => {
    // Prepare: `build` stores dist/ for `package`
    await runStage(job({ name: 'build', commands: ['./build.sh'], artifacts: ['dist'] }), deps());
    await rm(workRoot, { recursive: true, force: true });
    workRoot = await mkdtemp(join(tmpdir(), 'agent-'));

    // Act
    const result = await runStage(job({ name: 'package', upstream: ['build'], needs: ['build'], commands: ['sleep 0.3', 'cp dist/app.txt app.txt'], artifacts: ['app.txt'] }), deps());

    // Assess
    const phases = result.phases!;
    expect(Object.keys(phases).sort()).toEqual(['artifactsInMs', 'artifactsOutMs', 'cacheRestoreMs', 'commandsMs', 'snapshotMs']);
    expect(phases.commandsMs).toBeGreaterThanOrEqual(300);
    const measured = phases.snapshotMs! + phases.artifactsInMs! + phases.cacheRestoreMs! + phases.commandsMs! + phases.artifactsOutMs!;
    expect(measured).toBeLessThanOrEqual(result.durationMs + 5);
  });

  it('records a result well under the 256 KiB state payload limit for many artifacts', async () => {
    // Prepare
    const stageJob = job({
      name: 'many',
      commands: ['mkdir -p out && for i in $(seq 1 300); do echo $i > out/file-$i.txt; done'],
      artifacts: ['out/*.txt'],
    });
    // Act
    const result: StageResult = await runStage(stageJob, deps());
    // Assess
    expect(result.artifactCount).toBe(300);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(4 * 1024);
  });
});

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // A zombie waiting to be reaped is dead for our purpose.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('Function: runStage (store failures)', () => {
  let s3: RunningS3rver;
  let repo: TempRepo;
  let workRoot: string;

  beforeAll(async () => {
    s3 = await startS3rver();
    repo = await makeGitRepo({ 'a.txt': 'a\n' });
    workRoot = await mkdtemp(join(tmpdir(), 'agent-fail-'));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(workRoot, { recursive: true, force: true });
  });

  it('throws ArtifactUploadFailed, never a success, when an artifact cannot be stored; the log still goes up', async () => {
    // Prepare: the real store, refusing artifact keys only (as a bucket policy denying that prefix would)
    const real = new S3ArtifactStore(s3.client, s3.bucket);
    await storeSnapshot(real, 'refused', repo);
    const refusing: ArtifactStore = {
      put: (key, body, type) =>
        key.endsWith('/artifacts.tar') ? Promise.reject(new Error('Access Denied')) : real.put(key, body, type),
      get: (key) => real.get(key),
      getText: (key) => real.getText(key),
      list: (prefix) => real.list(prefix),
    };
    const stage = plannedStage({ name: 'build', commands: ['cp a.txt out.txt'], artifacts: ['out.txt'] });
    // Act
    const error = await runStage(
      { buildId: 'refused', stage, runner: 'lambda', workRoot, deadline: Date.now() + 60_000 },
      { store: refusing, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() },
    ).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(ArtifactUploadFailed);
    expect((error as Error).message).toContain('Access Denied');
    expect(await real.getText(stageLogKey('refused', 'build'))).toContain('ArtifactUploadFailed');
    expect(await real.getText(stageResultKey('refused', 'build'))).toBeUndefined();
  });
});
