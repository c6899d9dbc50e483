import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { planKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import { s3rverClientConfig } from '../../functions/adapters/local/s3rver-client.js';
import { StrayProcessesSurvived } from '../../functions/runner/stray-processes.js';
import { createLambdaRunnerHandler } from '../../functions/handlers/lambda-runner.js';
import { LocalSessionMinter, LocalStageAccessSource } from '../../functions/local/local-stage-access.js';
import type { StageAccessSource } from '../../functions/ports/stage-access.js';
import { writeGrant } from '../support/stage-grants.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, plannedStage, storeSnapshot } from '../support/stages.js';

/** A Lambda context whose invocation ends `remainingMs` after it is made. */
function fakeContext(remainingMs: number): Context & { end: number } {
  const end = Date.now() + remainingMs;
  return {
    end,
    functionName: 'buildfarm-lambda-runner',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:buildfarm-lambda-runner',
    memoryLimitInMB: '2048',
    awsRequestId: 'request-1',
    getRemainingTimeInMillis: () => end - Date.now(),
  } as unknown as Context & { end: number };
}

describe('Function: createLambdaRunnerHandler', () => {
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
      waves: [['hello', 'slow', 'hello-again']],
      stages: [
        plannedStage({ name: 'hello', commands: ['cat README.md'] }),
        plannedStage({ name: 'hello-again', commands: ['true'] }),
        plannedStage({ name: 'slow', commands: ['sleep 120'] }),
      ],
      skipped: [],
      failFast: true,
      cancelSuperseded: false,
      region: 'us-east-1',
      predictedCostUsd: 0,
      secretsWithheld: false,
    };
    await store.put(planKey(buildId), JSON.stringify(plan));
    tmpRoot = await mkdtemp(join(tmpdir(), 'handler-tmp-'));
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
    await rm(tmpRoot, { recursive: true, force: true });
  });

  const minter = new LocalSessionMinter();
  const sweeps: string[] = [];

  function handlerWith(output = new CapturedOutput(), stageAccess?: StageAccessSource) {
    return createLambdaRunnerHandler({
      env: { ARTIFACT_BUCKET: s3.bucket, EPHEMERAL_STORAGE_MB: '512', RUNNER_TMP_DIR: tmpRoot },
      // The runner's only way to the bucket: the stage session StageCredentials mints (in-process here).
      stageAccess: stageAccess ?? new LocalStageAccessSource({ store: new S3ArtifactStore(s3.client, s3.bucket), secrets: { resolve: async () => 'unused' }, bucket: s3.bucket, minter }),
      s3Config: s3rverClientConfig(s3.endpoint),
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      output,
      sweepProcesses: async (when) => {
        sweeps.push(when);
      },
    });
  }

  async function grantFor(stage: string): Promise<string> {
    return writeGrant(new S3ArtifactStore(s3.client, s3.bucket), buildId, { name: stage, secrets: {} });
  }

  it('runs the stage named in the event from the plan in S3 and returns its result', async () => {
    // Prepare
    const output = new CapturedOutput();
    const handler = handlerWith(output);
    // Act
    const grant = await grantFor('hello');
    const result = await handler({ buildId, stageName: 'hello', planKey: planKey(buildId), grant }, fakeContext(60_000));
    // Assess
    expect(result).toMatchObject({ buildId, stage: 'hello', status: 'succeeded', runner: 'lambda', exitCode: 0 });
    expect(output.text).toContain('hello\n');
    const stored = await new S3ArtifactStore(s3.client, s3.bucket).getText(stageResultKey(buildId, 'hello'));
    expect(JSON.parse(stored!)).toEqual(result);
    expect(await readdir(tmpRoot)).toEqual([]);
    expect(sweeps.slice(-2)).toEqual(['start', 'end']);
    expect(JSON.parse(minter.requests.at(-1)!.policy).Statement[1].Resource).toBe(`arn:aws:s3:::${s3.bucket}/builds/${buildId}/stages/hello/*`);
  });

  it('ends the runtime when a process survives the sweep, so Lambda never reuses that sandbox for another build', async () => {
    // Prepare: a sweep that reports a survivor at the end of the stage
    const exits: number[] = [];
    const handler = createLambdaRunnerHandler({
      env: { ARTIFACT_BUCKET: s3.bucket, EPHEMERAL_STORAGE_MB: '512', RUNNER_TMP_DIR: tmpRoot },
      stageAccess: new LocalStageAccessSource({ store: new S3ArtifactStore(s3.client, s3.bucket), secrets: { resolve: async () => 'unused' }, bucket: s3.bucket, minter }),
      s3Config: s3rverClientConfig(s3.endpoint),
      logger: new Logger({ serviceName: 'test', logLevel: 'SILENT' }),
      output: new CapturedOutput(),
      sweepProcesses: async (when) => {
        if (when === 'end') throw new StrayProcessesSurvived('1 process survived the sweep');
      },
      exitRuntime: () => exits.push(1),
    });
    const grant = await grantFor('hello-again');
    // Act
    const error = await handler({ buildId, stageName: 'hello-again', planKey: planKey(buildId), grant }, fakeContext(60_000)).catch((e: unknown) => e);
    // Assess
    expect((error as Error).name).toBe('StrayProcessesSurvived');
    expect(exits).toEqual([1]);
  });

  it('refuses to run a stage whose grant is revoked (the stage already has its result)', async () => {
    // Prepare: the grant of 'hello', whose result the test above stored
    const handler = handlerWith();
    const grant = await grantFor('hello');
    // Act
    const error = await handler({ buildId, stageName: 'hello', planKey: planKey(buildId), grant }, fakeContext(60_000)).catch((e: unknown) => e);
    // Assess
    expect((error as Error).name).toBe('GrantRevoked');
  });

  it('refuses an event without a grant (MissingGrant) before reaching StageCredentials', async () => {
    // Prepare
    let asked = false;
    const handler = handlerWith(undefined, { open: async () => ((asked = true), Promise.reject(new Error('not reached'))) });
    // Act
    const error = await handler({ buildId, stageName: 'hello', planKey: planKey(buildId) }, fakeContext(60_000)).catch((e: unknown) => e);
    // Assess
    expect((error as Error).name).toBe('MissingGrant');
    expect(asked).toBe(false);
  });

  it('throws StageTimeout, with that name, before the invocation\'s time runs out', async () => {
    // Prepare: 13 s left; the runner keeps 10 s back, so the stage must stop at about 3 s
    const handler = handlerWith();
    const context = fakeContext(13_000);
    // Act
    const grant = await grantFor('slow');
    const error = await handler({ buildId, stageName: 'slow', planKey: planKey(buildId), grant }, context).catch(
      (e: unknown) => e,
    );
    // Assess
    expect((error as Error).name).toBe('StageTimeout');
    expect(Date.now()).toBeLessThan(context.end);
  });
});
