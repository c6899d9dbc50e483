/**
 * Faults (issue 6): S3 failing mid-upload, Lambda throttling, and the farm
 * killed mid-build. Each case names the fault it defends against. SNS down
 * at the webhook is in webhook.test.ts; Fargate capacity errors and a Lambda
 * runner crash are in test/statemachine (see README.md here).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { artifactArchiveKey, manifestKey, reportKey, stageLogKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import type { BuildRecord } from '../../functions/local/build-record.js';
import { runBuildLocally, type StageStateEvent } from '../../functions/local/state-machine-runner.js';
import { runStage, type StageJob } from '../../functions/runner/agent.js';
import { ArtifactUploadFailed } from '../../functions/runner/errors.js';
import { pushRequest, startTestFarm } from '../local/support/test-farm.js';
import { BUILD_ID, createFarm, NamedError, REQUEST } from '../statemachine/support/farm.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';
import { isAlive, liveSleeps } from './support/processes.js';
import { startFaultyS3Proxy, type FaultyS3Proxy, type RequestSeen } from './support/faulty-s3-proxy.js';

describe('Fault: S3 errors mid-upload', () => {
  let s3: RunningS3rver;
  let proxy: FaultyS3Proxy;
  /** The agent's store: through the faulty network. */
  let store: S3ArtifactStore;
  /** The test's view of the bucket: straight to s3rver. */
  let direct: S3ArtifactStore;
  let repo: TempRepo;
  let workRoot: string;
  let buildId: string;
  let counter = 0;

  const artifactPut = (r: RequestSeen) => r.method === 'PUT' && r.url.includes('/artifacts.tar');

  beforeAll(async () => {
    s3 = await startS3rver();
    proxy = await startFaultyS3Proxy(s3.endpoint);
    store = new S3ArtifactStore(proxy.client, s3.bucket);
    direct = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'uploads\n' });
  });
  afterAll(async () => {
    await proxy.close();
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    counter += 1;
    buildId = `upload-${counter}`;
    workRoot = await mkdtemp(join(tmpdir(), 'hostile-s3-'));
    await storeSnapshot(direct, buildId, repo);
    proxy.setFault(undefined);
    proxy.seen.length = 0;
    proxy.broken.length = 0;
  });
  afterEach(async () => {
    await rm(workRoot, { recursive: true, force: true });
  });

  function job(commands: string[], artifacts: string[]): StageJob {
    const stage = plannedStage({ name: 'build', commands, artifacts });
    return { buildId, stage, runner: 'fargate', workRoot, deadline: Date.now() + 120_000 };
  }
  const deps = () => ({ store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() });

  async function expectNothingRecordedAsSuccess(): Promise<void> {
    expect(await direct.getText(stageResultKey(buildId, 'build'))).toBeUndefined();
    expect(await direct.getText(manifestKey(buildId, 'build'))).toBeUndefined();
    const stored: string[] = [];
    for await (const object of direct.list(`builds/${buildId}/stages/build/artifacts`)) stored.push(object.key);
    expect(stored).toEqual([]);
    expect(await direct.getText(stageLogKey(buildId, 'build'))).toContain('== infrastructure error ArtifactUploadFailed:');
  }

  it('defends against a connection cut mid-upload twice: the SDK retries, the artifact arrives whole', async () => {
    // Prepare: 64 KiB of random bytes; the first two attempts are cut after 1,000 bytes
    proxy.setFault({ matches: artifactPut, kind: 'cut', afterBytes: 1000, times: 2 });
    const stageJob = job(['head -c 65536 /dev/urandom > out.bin'], ['out.bin']);

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'succeeded', artifactCount: 1, artifactBytes: 65536 });
    expect(proxy.broken).toHaveLength(2);
    expect(proxy.seen.filter(artifactPut)).toHaveLength(3);
    const stored = await direct.get(artifactArchiveKey(buildId, 'build'));
    const hash = createHash('sha256');
    for await (const chunk of stored!) hash.update(chunk as Buffer);
    const manifest = JSON.parse((await direct.getText(manifestKey(buildId, 'build')))!) as { archive: { sha256: string } };
    expect(manifest.archive.sha256).toBe(hash.digest('hex'));
  });

  it('defends against a connection cut mid-upload every time: retried, then ArtifactUploadFailed, and no result recorded as success', async () => {
    // Prepare
    proxy.setFault({ matches: artifactPut, kind: 'cut', afterBytes: 1000 });
    const stageJob = job(['head -c 65536 /dev/urandom > out.bin'], ['out.bin']);

    // Act
    const error = await runStage(stageJob, deps()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ArtifactUploadFailed);
    expect((error as Error).name).toBe('ArtifactUploadFailed');
    expect((error as Error).message).toContain('could not upload the artifacts to builds/');
    expect(proxy.broken.length).toBeGreaterThan(1);
    await expectNothingRecordedAsSuccess();
  });

  it('defends against S3 answering 503 SlowDown: retried, then ArtifactUploadFailed naming it', async () => {
    // Prepare
    proxy.setFault({ matches: artifactPut, kind: 'slowDown' });
    const stageJob = job(['echo built > out.txt'], ['out.txt']);

    // Act
    const error = await runStage(stageJob, deps()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ArtifactUploadFailed);
    expect((error as Error).message).toMatch(/SlowDown|reduce your request rate/);
    expect(proxy.broken.length).toBeGreaterThan(1);
    await expectNothingRecordedAsSuccess();
  });

  it('defends against a multipart upload whose second part keeps failing: retried, the upload aborted, no object left', async () => {
    // Prepare: 20 MiB is three 8 MiB parts; part 2 is cut after 1 MiB every time
    const partTwo = (r: RequestSeen) => r.method === 'PUT' && r.url.includes('partNumber=2');
    proxy.setFault({ matches: partTwo, kind: 'cut', afterBytes: 1024 * 1024 });
    const stageJob = job(['head -c 20971520 /dev/urandom > big.bin'], ['big.bin']);

    // Act
    const error = await runStage(stageJob, deps()).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ArtifactUploadFailed);
    expect(proxy.broken.length).toBeGreaterThan(1);
    // AbortMultipartUpload: no orphaned parts keep billing.
    expect(proxy.seen.some((r) => r.method === 'DELETE' && r.url.includes('/artifacts.tar') && r.url.includes('uploadId='))).toBe(true);
    await expectNothingRecordedAsSuccess();
  });
});

describe('Fault: Lambda throttling', () => {
  async function report(farm: ReturnType<typeof createFarm>): Promise<BuildReport> {
    const found = farm.store.json<BuildReport>(reportKey(BUILD_ID));
    if (!found) throw new Error('no report.json was written');
    return found;
  }

  it('defends against Lambda.TooManyRequestsException on a stage runner: the Retry absorbs it and the stage runs once', async () => {
    // Prepare: the first three invocations of the runner are throttled
    const farm = createFarm({ compile: { runner: 'lambda' }, test: { runner: 'lambda', needs: ['compile'] } });
    const run = farm.bindings.runLambdaStage;
    let throttled = 0;
    farm.bindings.runLambdaStage = async (event, functionName) => {
      if (event.stageName === 'compile' && throttled < 3) {
        throttled += 1;
        throw new NamedError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
      }
      return run(event, functionName);
    };
    const states: StageStateEvent[] = [];

    // Act
    const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, { onStageState: (e) => states.push(e) });

    // Assess
    const built = await report(farm);
    expect(result.output.status).toBe('succeeded');
    expect(built.stages.map((s) => [s.name, s.status, s.runner])).toEqual([['compile', 'succeeded', 'lambda'], ['test', 'succeeded', 'lambda']]);
    expect(farm.lambdaCalls).toEqual(['compile', 'test']);
    expect(states.filter((e) => e.stage === 'compile' && e.type === 'StateRetried')).toHaveLength(3);
    // Retries are state transitions AWS bills, though no record sees them.
    expect(result.stateTransitions).toBe(built.costBreakdown.stateTransitions + 3);
  });

  it('defends against throttling of the Plan and Report functions: retried, the build still reports', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' } });
    const plan = farm.bindings.plan;
    const reportTask = farm.bindings.report;
    let planThrottles = 0;
    let reportThrottles = 0;
    farm.bindings.plan = async (input) => {
      if (planThrottles++ < 2) throw new NamedError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
      return plan(input);
    };
    farm.bindings.report = async (input) => {
      if (reportThrottles++ < 2) throw new NamedError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
      return reportTask(input);
    };

    // Act
    const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings);

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect((await report(farm)).status).toBe('succeeded');
    expect(planThrottles).toBe(3);
    expect(reportThrottles).toBe(3);
  });

  it('defends against throttling that outlasts every retry: the stage fails with the error named, the build is not lost', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' }, docs: { runner: 'lambda' } });
    const run = farm.bindings.runLambdaStage;
    let attempts = 0;
    farm.bindings.runLambdaStage = async (event, functionName) => {
      if (event.stageName === 'compile') {
        attempts += 1;
        throw new NamedError('Lambda.TooManyRequestsException', 'Rate Exceeded.');
      }
      return run(event, functionName);
    };

    // Act
    const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings);

    // Assess: MaxAttempts 6 retries after the first call
    const built = await report(farm);
    expect(attempts).toBe(7);
    expect(result.output.status).toBe('failed');
    expect(built.stages.find((s) => s.name === 'compile')).toMatchObject({ status: 'failed', errorName: 'Lambda.TooManyRequestsException' });
    expect(built.stages.find((s) => s.name === 'docs')).toMatchObject({ status: 'succeeded' });
  });
});

describe('Fault: the farm killed mid-build and restarted', () => {
  let directory: string;
  let child: ChildProcess | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'hostile-farm-'));
  });
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    child = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  it('defends against a SIGKILLed farm: after the restart the build is interrupted, never left running, and new builds run', async () => {
    // Prepare: a farm in its own process, its build held in the `package` stage
    const script = fileURLToPath(new URL('./support/farm-process.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', script, directory, 'cut-off'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    const recordFile = join(directory, 'builds', 'cut-off.json');
    const onDisk = (): BuildRecord | undefined => {
      try {
        return JSON.parse(readFileSync(recordFile, 'utf8')) as BuildRecord;
      } catch {
        return undefined; // not written yet
      }
    };
    await expect
      .poll(() => onDisk()?.stages.find((s) => s.name === 'package')?.status, { timeout: 30_000, interval: 100 })
      .toBe('running');
    expect(onDisk()!.state).toBe('running');

    // Act: kill -9, so nothing gets to clean up; then start a farm on the same directory
    child.kill('SIGKILL');
    await exited;
    const restarted = await startTestFarm({ directory });

    try {
      // Assess
      const record = restarted.farm.get('cut-off')!;
      expect(record.status).toBe('interrupted');
      expect(record.finishedAt).toBeDefined();
      expect(record.error).toEqual({ name: 'Interrupted', message: 'the farm stopped while this build ran' });
      expect(record.stages.map((s) => [s.name, s.status])).toEqual([['build', 'succeeded'], ['lint', 'succeeded'], ['test', 'succeeded'], ['package', 'cancelled']]);
      expect(restarted.store.interruptedAtOpen).toEqual(['cut-off']);
      // Re-run once, under its own id, with the same request: nothing accepted is left without a final status.
      expect(restarted.store.get('cut-off')!.rerunId).toBe('cut-off-rerun');
      expect(restarted.recovery.rerun).toEqual(['cut-off-rerun']);
      const rerun = await restarted.farm.settled('cut-off-rerun');
      expect(rerun.state).toBe('succeeded');
      expect(rerun.request).toEqual(restarted.store.get('cut-off')!.request);
      // The API shows it interrupted too, and the change is on disk.
      const listed = (await (await fetch(`${restarted.url}/api/builds`)).json()) as Array<{ id: string; status: string }>;
      expect(listed.find((b) => b.id === 'cut-off')?.status).toBe('interrupted');
      expect(onDisk()!.state).toBe('interrupted');
      // The restarted farm is not stuck behind the dead build.
      await restarted.farm.start('after', { buildId: 'after', request: pushRequest() });
      expect((await restarted.farm.settled('after')).state).toBe('succeeded');
    } finally {
      await restarted.close();
    }
    expect(existsSync(recordFile)).toBe(true);
  });

  it('defends against a SIGKILLed farm leaving builds behind: the build\'s process sees its IPC channel close and ends its stages and itself', async () => {
    // Prepare: a farm in its own process, building in a child process as `buildfarm serve` does,
    // its one stage sleeping far longer than the test
    const marker = String(7000 + Math.floor(Math.random() * 900));
    const script = fileURLToPath(new URL('./support/child-farm-process.ts', import.meta.url));
    child = spawn(process.execPath, ['--import', 'tsx', script, directory, `sleep ${marker} && echo done`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<void>((resolve) => child!.once('exit', () => resolve()));
    let output = '';
    child.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
    await expect.poll(() => liveSleeps(marker).length, { timeout: 60_000, interval: 100 }).toBeGreaterThan(0);
    const buildProcess = (JSON.parse(output.trim().split('\n')[0]!) as { buildProcess: number }).buildProcess;
    expect(isAlive(buildProcess)).toBe(true);

    try {
      // Act: kill -9, so the farm gets to clean up nothing
      child.kill('SIGKILL');
      await exited;

      // Assess: nothing of the build outlives the farm
      await expect.poll(() => isAlive(buildProcess), { timeout: 20_000, interval: 100 }).toBe(false);
      await expect.poll(() => liveSleeps(marker), { timeout: 5_000, interval: 100 }).toEqual([]);
    } finally {
      for (const pid of [buildProcess, ...liveSleeps(marker)]) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  });
});
