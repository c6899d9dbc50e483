/**
 * The local farm's Lambda runner per memory tier: as on AWS, where each tier is a function of its
 * own and the runner's memory is the invoked function's, the local Schedule step routes a stage to
 * a function named for its tier, and the local executor takes the memory from that name instead of
 * reading the stage's slice of the plan a second time (the runner reads it once, as on AWS).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { localRunnerFunction, localSubstitutions, memoryOfLocalRunner } from '../../functions/local/asl-definition.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { planKey, stagePlanKey } from '../../functions/domain/storage-keys.js';
import { aBuildRequest } from '../support/build-requests.js';
import { makeGitRepo } from '../support/git-repo.js';
import { oneRepositoryFarm } from '../support/one-repository-farm.js';

describe('Function: memoryOfLocalRunner', () => {
  it('reads back the memory of the tier a local runner function was named for', () => {
    expect(memoryOfLocalRunner(localRunnerFunction('eu-west-1', 3008))).toBe(3008);
    expect(memoryOfLocalRunner(localRunnerFunction('us-east-1', 128))).toBe(128);
  });

  it('knows no memory for any other function, the default runner included', () => {
    expect(memoryOfLocalRunner(localSubstitutions('us-east-1').LambdaRunnerFunctionArn)).toBeUndefined();
    expect(memoryOfLocalRunner(localSubstitutions('us-east-1').PlanFunctionArn)).toBeUndefined();
    expect(memoryOfLocalRunner('arn:aws:lambda:us-east-1:123456789012:function:buildfarm-LambdaRunner2048Function')).toBeUndefined();
  });
});

describe('Local farm: a Lambda stage on its tier\'s function', () => {
  const REPOSITORY = 'octo/tiers';
  const dirs: string[] = [];
  let s3: EmbeddedS3;
  let repo: { path: string; sha: string };

  beforeAll(async () => {
    repo = await makeGitRepo({ '.buildfarm.yml': "version: 1\nstages:\n  small:\n    commands: ['true']\n" });
    const data = await mkdtemp(join(tmpdir(), 'bf-tiers-'));
    dirs.push(repo.path, data);
    s3 = await startEmbeddedS3(join(data, 's3'));
  });
  afterAll(async () => {
    await s3?.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('runs the stage with its planned memory and reads its slice of the plan only through the runner', async () => {
    // Prepare: count reads of stage slices through the farm's own (uncounted) store
    const farm = oneRepositoryFarm(dirs[1]!, s3, { name: REPOSITORY, path: repo.path });
    const sliceReads: string[] = [];
    const getText = farm.store.getText.bind(farm.store);
    const slice = stagePlanKey(planKey('tiers-1'), 'small');
    farm.store.getText = (key: string) => {
      if (key === slice) sliceReads.push(key);
      return getText(key);
    };

    // Act
    const { report } = await runLocalBuild({ buildId: 'tiers-1', request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) }, farm);

    // Assess
    expect(report.status).toBe('succeeded');
    expect(report.stages[0]!.lambda?.memoryMB).toBeGreaterThan(0);
    expect(sliceReads).toEqual([]);
  });
});
