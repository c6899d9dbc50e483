import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import { planKey, stageLogKey } from '../../functions/domain/storage-keys.js';
import { OutOfDisk, PlanMissing, StageNotInPlan, StageTimeout } from '../../functions/runner/errors.js';
import { runLambdaStage, type LambdaRunnerDeps } from '../../functions/runner/lambda-run.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, plannedStage, storeSnapshot } from '../support/stages.js';

function planOf(stages: PlannedStage[]): Plan {
  return {
    version: 1,
    waves: [stages.map((stage) => stage.name)],
    stages,
    skipped: [],
    failFast: true,
    cancelSuperseded: false,
    region: 'us-east-1',
    predictedCostUsd: 0,
    secretsWithheld: false,
  };
}

/** A Lambda context whose invocation ends `remainingMs` after it is made. */
function fakeContext(remainingMs: number, memoryLimitInMB = '1024') {
  const end = Date.now() + remainingMs;
  return { end, getRemainingTimeInMillis: () => end - Date.now(), memoryLimitInMB };
}

describe('Function: runLambdaStage', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let tmpRoot: string;
  const buildId = 'lambda-build';

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'hello\n' });
    await storeSnapshot(store, buildId, repo);
    await store.put(
      planKey(buildId),
      JSON.stringify(
        planOf([
          plannedStage({ name: 'slow', commands: ['sleep 60'] }),
          plannedStage({ name: 'fails', commands: ['exit 4'] }),
          plannedStage({ name: 'own-timeout', commands: ['sleep 60'], timeoutSeconds: 2 }),
          plannedStage({ name: 'fill', commands: ['head -c 20000000 /dev/zero > filler.bin; sleep 30'] }),
          // TMPDIR is {tmpRoot}/work/tmp: the leftover sits two levels up.
          plannedStage({ name: 'clean', commands: ['test ! -e "$TMPDIR/../../leftover-from-last-time"', 'cat README.md'] }),
        ]),
      ),
    );
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });
  beforeEach(async () => {
    tmpRoot = await mkdtemp(join(tmpdir(), 'lambda-tmp-'));
  });

  function deps(overrides: Partial<LambdaRunnerDeps> = {}): LambdaRunnerDeps {
    return {
      store,
      secrets: new MapSecrets({}),
      now: Date.now,
      tmpRoot,
      ephemeralStorageMB: 512,
      safetyMarginMs: 3_000,
      output: new CapturedOutput(),
      ...overrides,
    };
  }

  it('throws StageTimeout before the invocation would end when little time remains', async () => {
    // Prepare: 6 s left, 3 s kept back: the stage must stop at about 3 s
    const context = fakeContext(6_000);
    // Act
    const error = await runLambdaStage({ buildId, stageName: 'slow', planKey: planKey(buildId) }, context, deps()).catch(
      (e: unknown) => e,
    );
    // Assess
    expect(error).toBeInstanceOf(StageTimeout);
    expect((error as Error).name).toBe('StageTimeout');
    expect(Date.now()).toBeLessThan(context.end);
    expect(await store.getText(stageLogKey(buildId, 'slow'))).toContain('$ sleep 60');
  });

  it('applies the stage\'s own timeout and returns timed_out without escalating (Fargate would not help)', async () => {
    // Act: 60 s of invocation left, but the stage allows itself 2 s
    const result = await runLambdaStage({ buildId, stageName: 'own-timeout', planKey: planKey(buildId) }, fakeContext(60_000), deps());
    // Assess
    expect(result).toMatchObject({ status: 'timed_out', errorName: 'StageTimeout', runner: 'lambda' });
    expect(result.durationMs).toBeLessThan(30_000);
  });

  it('throws OutOfDisk when the stage outgrows the function\'s /tmp', async () => {
    // Act
    const error = await runLambdaStage(
      { buildId, stageName: 'fill', planKey: planKey(buildId) },
      fakeContext(60_000),
      deps({ ephemeralStorageMB: 8 }),
    ).catch((e: unknown) => e);
    // Assess
    expect(error).toBeInstanceOf(OutOfDisk);
  });

  it('returns the result (without throwing) for a failing command', async () => {
    // Act
    const result = await runLambdaStage({ buildId, stageName: 'fails', planKey: planKey(buildId) }, fakeContext(60_000), deps());
    // Assess
    expect(result).toMatchObject({ status: 'failed', errorName: 'CommandFailed', exitCode: 4, runner: 'lambda' });
  });

  it('empties /tmp before running (a warm sandbox keeps it) and after', async () => {
    // Prepare: a file an earlier invocation left behind
    const leftover = join(tmpRoot, 'leftover-from-last-time');
    await writeFile(leftover, 'old');
    const output = new CapturedOutput();
    // Act
    const result = await runLambdaStage(
      { buildId, stageName: 'clean', planKey: planKey(buildId) },
      fakeContext(60_000),
      deps({ output }),
    );
    // Assess
    expect(result.status).toBe('succeeded');
    expect(output.text).toContain('hello\n');
    expect(existsSync(leftover)).toBe(false);
    expect(await readdir(tmpRoot)).toEqual([]);
  });

  it('throws PlanMissing and StageNotInPlan for a plan or stage that is not there', async () => {
    // Act
    const noPlan = await runLambdaStage({ buildId, stageName: 'x', planKey: 'builds/none/plan.json' }, fakeContext(60_000), deps()).catch((e: unknown) => e);
    const noStage = await runLambdaStage({ buildId, stageName: 'nope', planKey: planKey(buildId) }, fakeContext(60_000), deps()).catch((e: unknown) => e);
    // Assess
    expect(noPlan).toBeInstanceOf(PlanMissing);
    expect(noStage).toBeInstanceOf(StageNotInPlan);
  });
});
