/**
 * The cache across the Fargate task's containers: fetch restores into the HOME volume,
 * the build container's commands (here `sh stage.sh` with HOME on that volume, as the task
 * definition sets it) see the files, publish saves after a success. Against s3rver.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cacheScopeFor } from '../../../functions/domain/cache/scope.js';
import type { Plan } from '../../../functions/domain/plan/types.js';
import { manifestKey, planKey, sourceKey, stageLogKey, stageResultKey } from '../../../functions/domain/storage-keys.js';
import { findArtifacts, uploadArtifacts } from '../../../functions/runner/artifacts.js';
import { runFetch } from '../../../functions/runner/fargate/fetch.js';
import type { HelperContext } from '../../../functions/runner/fargate/helper-context.js';
import type { HelperDeps } from '../../../functions/runner/fargate/helper-deps.js';
import { runPublish } from '../../../functions/runner/fargate/publish.js';
import { StageLog } from '../../../functions/runner/stage-log.js';
import { prepareWorkspace } from '../../../functions/runner/workspace.js';
import { useS3rverStore } from '../../support/s3rver-store.js';
import { CapturedOutput, MapSecrets, plannedStage } from '../../support/stages.js';
import { file, makeTarGz } from '../../support/tarballs.js';

const on = useS3rverStore('fargate-cache-');

async function fargateBuild(buildId: string, commands: string[]) {
  await on.store.put(sourceKey(buildId), await makeTarGz([file('repo-abc/package-lock.json', '{"v":1}\n')]));
  const stage = plannedStage({ name: 'install', runner: 'fargate', commands, cache: { paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' } });
  const plan: Plan = {
    version: 1, waves: [['install']], stages: [stage], skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0, secretsWithheld: false,
    cacheScope: cacheScopeFor({ repository: 'octo/app', event: 'push', branch: 'main', fromFork: false }),
  };
  await on.store.put(planKey(buildId), JSON.stringify(plan));
  const root = join(on.dir, buildId);
  const context: HelperContext = {
    buildId, stageName: 'install', planKey: planKey(buildId), workspace: join(root, 'workspace'), workspaceUid: 0, fromFork: false,
    helperDir: join(root, 'buildfarm'), logsDir: join(root, 'logs'), homeDir: join(root, 'home'),
  };
  for (const d of [context.workspace, context.helperDir, context.logsDir]) mkdirSync(d, { recursive: true });
  let buildExit: number | null = null;
  const deps: HelperDeps = {
    store: on.store, secrets: new MapSecrets({}), prepareWorkspace, findArtifacts, uploadArtifacts,
    keys: { stageLogKey, manifestKey, stageResultKey },
    log: new StageLog(join(root, 'helper.txt'), new CapturedOutput()),
    now: Date.now,
    taskMetadata: async () => ({ Containers: [{ Name: 'build', KnownStatus: 'STOPPED', ExitCode: buildExit }] }),
  };
  await runFetch(context, deps);
  const run = spawnSync('sh', [join(context.helperDir, 'stage.sh')], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: context.homeDir } });
  buildExit = run.status;
  const result = await runPublish(context, deps);
  return { result, log: (await on.store.getText(stageLogKey(buildId, 'install'))) ?? '' };
}

describe('Function: runFetch and runPublish with a cache', () => {
  it('publish saves what the build left in HOME; the next task\'s fetch restores it before the commands', async () => {
    const first = await fargateBuild('fc-1', ['mkdir -p ~/.npm && echo from-first-task > ~/.npm/x']);
    expect(first.result.status).toBe('succeeded');
    expect(first.result.cache).toMatchObject({ result: 'miss', saved: { branch: 'main' } });

    const second = await fargateBuild('fc-2', ['cat ~/.npm/x']);
    expect(second.result.status).toBe('succeeded');
    expect(second.log).toContain('from-first-task');
    expect(second.result.cache).toMatchObject({ result: 'hit', key: first.result.cache!.key, notSaved: 'the key was an exact hit' });
  });

  it('a failed build saves nothing', async () => {
    const failed = await fargateBuild('fc-3', ['echo changed > ~/.npm/other', 'exit 1']);
    expect(failed.result.status).toBe('failed');
    expect(failed.result.cache).toMatchObject({ notSaved: 'the stage did not succeed' });
  });
});
