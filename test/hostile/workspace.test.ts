/**
 * Hostile commands in a workspace (issue 6): fork bombs, disk fillers and a
 * stage process killed from outside, run for real through the stage agent
 * (`runStage`) and the local Lambda executor against s3rver. Each case names
 * what it defends against. The farm is this test process: it must come out
 * with a clear, named failure and go on running stages.
 *
 * Every bomb here is bounded twice, so a broken limit can never take the
 * machine down: its loop stops after 1,000 processes, spawned no faster than
 * one every 5 ms, and the stage's deadline stops whatever is left. An
 * afterEach kills any survivor by its marker.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import { planKey, stageLogKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import type { StageResult } from '../../functions/domain/report/types.js';
import { LocalLambdaExecutor } from '../../functions/local/executors/local-lambda-executor.js';
import { runStage, type StageJob } from '../../functions/runner/agent.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';
import { isAlive, killSleeps, liveInGroup, liveSleeps } from './support/processes.js';

/** Distinct `sleep` arguments, so each case finds (and cleans up) only its own processes. */
const MARKERS = ['4711', '4712', '4713', '4714', '4715'];

/**
 * A loop that spawns `spawn` (a background process) without end as far as the
 * farm can tell. The 1,000 cap and the 5 ms pause bound it for this machine only.
 */
function forkBomb(spawn: string): string {
  return `echo $$ > bomb.pid; i=0; while [ $i -lt 1000 ]; do ${spawn} i=$((i+1)); sleep 0.005; done; wait`;
}

const GONE = { timeout: 10_000, interval: 100 };

describe('Hostile: commands that fork-bomb or fill the disk (runStage)', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let workRoot: string;
  let buildId: string;
  let counter = 0;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'hostile\n' });
  });
  afterAll(async () => {
    for (const marker of MARKERS) killSleeps(marker);
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    counter += 1;
    buildId = `hostile-${counter}`;
    workRoot = await mkdtemp(join(tmpdir(), 'hostile-ws-'));
    await storeSnapshot(store, buildId, repo);
  });
  afterEach(async () => {
    for (const marker of MARKERS) killSleeps(marker);
    await rm(workRoot, { recursive: true, force: true });
  });

  function job(stage: Parameters<typeof plannedStage>[0], extra: Partial<StageJob> = {}): StageJob {
    return { buildId, stage: plannedStage(stage), runner: 'fargate', workRoot, deadline: Date.now() + 30_000, ...extra };
  }
  function deps(output = new CapturedOutput()) {
    return { store, secrets: new MapSecrets({}), now: Date.now, output };
  }
  function leader(): number {
    return Number(readFileSync(join(workRoot, 'workspace', 'bomb.pid'), 'utf8'));
  }

  it('defends against a fork bomb: the memory limit stops the tree with OutOfMemory, every process is gone, the farm runs on', async () => {
    // Prepare: each sleep holds about 1.8 MiB resident, so a 64 MiB limit is a limit of a few dozen processes
    const stageJob = job({ name: 'bomb', commands: [forkBomb('sleep 4711 &')] }, { memoryLimitMiB: 64 });

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfMemory', exitCode: null });
    expect(result.reason).toContain('went past the 64 MiB memory limit; its process tree was stopped');
    await expect.poll(() => liveInGroup(leader()), GONE).toEqual([]);
    await expect.poll(() => liveSleeps('4711'), GONE).toEqual([]);
    expect(await store.getText(stageLogKey(buildId, 'bomb'))).toContain('== OutOfMemory:');
    expect(JSON.parse((await store.getText(stageResultKey(buildId, 'bomb')))!)).toMatchObject({ errorName: 'OutOfMemory' });
    // ...and the farm survived: the next stage runs normally.
    const next = await runStage(job({ name: 'after', commands: ['echo alive'] }, { workRoot: join(workRoot, 'next') }), deps());
    expect(next.status).toBe('succeeded');
  });

  it('defends against a fork bomb with no memory limit known: the stage deadline stops it with StageTimeout and kills the whole group', async () => {
    // Prepare
    const stageJob = job({ name: 'bomb', commands: [forkBomb('sleep 4712 &')] }, { deadline: Date.now() + 2_000 });

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'timed_out', errorName: 'StageTimeout' });
    expect(result.reason).toContain('its process tree was stopped');
    await expect.poll(() => liveInGroup(leader()), GONE).toEqual([]);
    await expect.poll(() => liveSleeps('4712'), GONE).toEqual([]);
  });

  it('defends against a fork bomb whose children leave the process group (setsid): they are stopped too', async () => {
    // Prepare
    const stageJob = job({ name: 'bomb', commands: [forkBomb('setsid sleep 4713 &')] }, { memoryLimitMiB: 64 });

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfMemory' });
    await expect.poll(() => liveSleeps('4713'), GONE).toEqual([]);
  });

  it('defends against a fork bomb of daemonised children (double fork, parent gone at once): the group kill reaches them', async () => {
    // Prepare: `( sleep & )` leaves each sleep an orphan immediately, so only its process group ties it to the stage
    const stageJob = job({ name: 'bomb', commands: [forkBomb('( sleep 4714 & );')] }, { deadline: Date.now() + 2_000 });

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'timed_out', errorName: 'StageTimeout' });
    await expect.poll(() => liveSleeps('4714'), GONE).toEqual([]);
  });

  it('defends against a command that writes until the disk is full: OutOfDisk stops it long before the disk is', async () => {
    // Prepare: appends 1 MB at a time without end (bounded at 300 MB for this machine's sake), against an 8 MiB limit
    const filler = 'i=0; while [ $i -lt 300 ]; do head -c 1000000 /dev/zero >> fill.bin; i=$((i+1)); sleep 0.01; done; sleep 4715';
    const stageJob = job({ name: 'fill', commands: [filler] }, { diskLimitMiB: 8 });

    // Act
    const result = await runStage(stageJob, deps());

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfDisk' });
    expect(result.reason).toContain('went past the 8 MiB disk limit; its process tree was stopped');
    expect(result.peakDiskMiB).toBeGreaterThan(8);
    expect(await store.getText(stageLogKey(buildId, 'fill'))).toContain('== OutOfDisk:');
    await expect.poll(() => liveSleeps('4715'), GONE).toEqual([]);
  });
});

describe('Fault: a stage process killed from outside', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let workRoot: string;
  let counter = 0;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'victim\n' });
  });
  afterAll(async () => {
    killSleeps('4720');
    killSleeps('4721');
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    workRoot = await mkdtemp(join(tmpdir(), 'hostile-kill-'));
  });
  afterEach(async () => {
    killSleeps('4720');
    killSleeps('4721');
    await rm(workRoot, { recursive: true, force: true });
  });

  /** Runs a stage whose command writes its shell's pid, then signals that pid from here while it runs. */
  async function runAndKill(marker: string, signal: NodeJS.Signals, memoryLimitMiB?: number): Promise<{ result: StageResult; buildId: string }> {
    counter += 1;
    const buildId = `victim-${counter}`;
    await storeSnapshot(store, buildId, repo);
    const stage = plannedStage({ name: 'victim', commands: [`echo $$ > victim.pid; echo started; sleep ${marker}; echo never`, 'echo never either'] });
    const running = runStage(
      { buildId, stage, runner: 'fargate', workRoot, deadline: Date.now() + 60_000, memoryLimitMiB },
      { store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() },
    );
    const pidFile = join(workRoot, 'workspace', 'victim.pid');
    await expect.poll(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), GONE).toBe(true);
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await expect.poll(() => liveSleeps(marker).length, GONE).toBe(1);
    process.kill(pid, signal);
    const result = await running;
    expect(isAlive(pid)).toBe(false);
    return { result, buildId };
  }

  it('defends against kill -9 of the command from outside: the stage fails with a reason naming SIGKILL, not a memory problem, and the log is uploaded', async () => {
    // Act
    const { result, buildId } = await runAndKill('4720', 'SIGKILL', 512);

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'CommandFailed', exitCode: 137 });
    expect(result.reason).toMatch(/was killed by SIGKILL from outside the stage \(its memory peaked at \d+ MiB, far below the 512 MiB limit\)/);
    const log = await store.getText(stageLogKey(buildId, 'victim'));
    expect(log).toContain('started');
    expect(log).toContain('== CommandFailed:');
    // Nothing ran after the kill: neither the rest of the command nor the next command.
    expect(log!.split('\n')).not.toContain('never');
    expect(log).not.toContain('$ echo never either');
    await expect.poll(() => liveSleeps('4720'), GONE).toEqual([]);
  });

  it('defends against a SIGTERM from outside: the stage fails with exit 143 and the signal in the reason, the log is uploaded', async () => {
    // Act
    const { result, buildId } = await runAndKill('4721', 'SIGTERM', 512);

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'CommandFailed', exitCode: 143 });
    expect(result.reason).toContain('was killed by SIGTERM');
    expect(await store.getText(stageLogKey(buildId, 'victim'))).toContain('== CommandFailed:');
    await expect.poll(() => liveSleeps('4721'), GONE).toEqual([]);
  });
});

describe('Hostile: the local Lambda executor under a fork bomb and a disk filler', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let sandboxRoot: string;
  const buildId = 'hostile-lambda';

  function lambdaStage(name: string, commands: string[], memoryMB = 1024): PlannedStage {
    return plannedStage({ name, commands, lambda: { memoryMB, ephemeralStorageMB: 512, architecture: 'arm64' } });
  }

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'lambda\n' });
    await storeSnapshot(store, buildId, repo);
    const stages = [
      // 256 MB function, less the agent's reserve: a 64 MiB limit for the stage's processes.
      lambdaStage('bomb', [forkBomb('sleep 4716 &')], 256),
      lambdaStage('fill', ['i=0; while [ $i -lt 300 ]; do head -c 1000000 /dev/zero >> fill.bin; i=$((i+1)); sleep 0.01; done; sleep 4717']),
      lambdaStage('after', ['echo alive']),
    ];
    const plan: Plan = { version: 1, waves: [stages.map((s) => s.name)], stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0, secretsWithheld: false };
    await store.put(planKey(buildId), JSON.stringify(plan));
  });
  afterAll(async () => {
    killSleeps('4716');
    killSleeps('4717');
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    sandboxRoot = await mkdtemp(join(tmpdir(), 'hostile-lambda-'));
  });
  afterEach(async () => {
    killSleeps('4716');
    killSleeps('4717');
    await rm(sandboxRoot, { recursive: true, force: true });
  });

  function executor(ephemeralStorageMB = 512): LocalLambdaExecutor {
    return new LocalLambdaExecutor({ store, secrets: new MapSecrets({}), sandboxRoot, ephemeralStorageMB, functionTimeoutSeconds: 60 });
  }

  it('defends against a fork bomb in a Lambda stage: a failed OutOfMemory result (not escalated), no process left, the sandbox removed', async () => {
    // Act
    const result = await executor().invoke({ buildId, stageName: 'bomb', planKey: planKey(buildId) }, new CapturedOutput());

    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'OutOfMemory', runner: 'lambda' });
    expect(result.reason).toContain('64 MiB memory limit');
    await expect.poll(() => liveSleeps('4716'), GONE).toEqual([]);
    expect(await readdir(sandboxRoot)).toEqual([]);
  });

  it('defends against a disk filler in a Lambda stage: OutOfDisk is thrown (so Step Functions escalates), the log is stored, the next invocation runs', async () => {
    // Prepare
    const lambda = executor(8);

    // Act
    const error = await lambda.invoke({ buildId, stageName: 'fill', planKey: planKey(buildId) }, new CapturedOutput()).catch((e: unknown) => e);
    const next = await lambda.invoke({ buildId, stageName: 'after', planKey: planKey(buildId) }, new CapturedOutput());

    // Assess
    expect((error as Error).name).toBe('OutOfDisk');
    expect((error as Error).message).toContain('went past the 8 MiB disk limit');
    expect(await store.getText(stageLogKey(buildId, 'fill'))).toContain('== OutOfDisk:');
    await expect.poll(() => liveSleeps('4717'), GONE).toEqual([]);
    expect(next.status).toBe('succeeded');
    expect(await readdir(sandboxRoot)).toEqual([]);
  });
});
