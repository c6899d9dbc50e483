/**
 * The helper's fetch → build → publish cycle with the real stage-agent pieces on a
 * real S3 protocol server (s3rver): what runs in the three containers of a task,
 * here as three steps in one process and one `sh`.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/domain/plan/types.js';
import type { ArtifactManifest } from '../../functions/domain/report/types.js';
import { artifactArchiveKey, manifestKey, planKey, sourceKey, stageLogKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import { findArtifacts, uploadArtifacts } from '../../functions/runner/artifacts.js';
import { runFetch } from '../../functions/runner/fargate/fetch.js';
import type { HelperContext } from '../../functions/runner/fargate/helper-context.js';
import type { HelperDeps } from '../../functions/runner/fargate/helper-deps.js';
import { runPublish } from '../../functions/runner/fargate/publish.js';
import { MASK } from '../../functions/runner/secret-masker.js';
import { StageLog } from '../../functions/runner/stage-log.js';
import { prepareWorkspace } from '../../functions/runner/workspace.js';
import { useS3rverStore } from '../support/s3rver-store.js';
import { CapturedOutput, MapSecrets, plannedStage, secretRef } from '../support/stages.js';
import { file, makeTarGz } from '../support/tarballs.js';

const BUILD = 'b-42';
const on = useS3rverStore('fargate-helper-s3-');

describe('Function: runFetch and runPublish on S3', () => {
  it('brings in the snapshot and upstream artifacts (modes and links kept), and publishes the build’s artifacts and result', async () => {
    // Prepare: a GitHub-style tarball, an upstream stage's archive (an executable and a link), and the plan.
    await on.store.put(sourceKey(BUILD), await makeTarGz([file('repo-abc123/greeting.txt', 'hello\n')]));
    const compiled = join(on.dir, 'compile-workspace');
    mkdirSync(join(compiled, 'lib'), { recursive: true });
    writeFileSync(join(compiled, 'lib/version.txt'), '1.2\n');
    writeFileSync(join(compiled, 'lib/stamp.sh'), '#!/bin/sh\necho stamped\n', { mode: 0o755 });
    symlinkSync('version.txt', join(compiled, 'lib/current'));
    const upstream = await uploadArtifacts(compiled, ['lib/current', 'lib/stamp.sh', 'lib/version.txt'], { buildId: BUILD, stage: 'compile' }, on.store);
    await on.store.put(manifestKey(BUILD, 'compile'), JSON.stringify(upstream));
    const stage = plannedStage({
      name: 'package',
      runner: 'fargate',
      needs: ['compile'],
      upstream: ['compile'],
      artifactsFrom: ['compile'],
      commands: ['cat greeting.txt lib/current > dist.txt', './lib/stamp.sh', 'echo "packaged as $NAME"'],
      env: { NAME: 'demo' },
      artifacts: ['dist.txt'],
    });
    const plan: Plan = { version: 1, waves: [['compile'], ['package']], stages: [stage], skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0, secretsWithheld: false };
    await on.store.put(planKey(BUILD), JSON.stringify(plan));

    const context: HelperContext = {
      buildId: BUILD,
      stageName: 'package',
      planKey: planKey(BUILD),
      workspace: join(on.dir, 'workspace'),
      workspaceUid: 0,
      fromFork: false,
      helperDir: join(on.dir, 'buildfarm'),
      logsDir: join(on.dir, 'logs'),
    };
    for (const d of [context.workspace, context.helperDir, context.logsDir]) mkdirSync(d);
    let buildExit: number | null = null;
    const deps: HelperDeps = {
      store: on.store,
      secrets: new MapSecrets({}),
      prepareWorkspace,
      findArtifacts,
      uploadArtifacts,
      keys: { stageLogKey, manifestKey, stageResultKey },
      log: new StageLog(join(on.dir, 'helper.txt'), new CapturedOutput()),
      now: Date.now,
      taskMetadata: async () => ({ Containers: [{ Name: 'build', KnownStatus: 'STOPPED', ExitCode: buildExit }] }),
    };

    // Act: fetch, then the build container, then publish.
    await runFetch(context, deps);
    buildExit = spawnSync('sh', [join(context.helperDir, 'stage.sh')], { encoding: 'utf8' }).status;
    const result = await runPublish(context, deps);

    // Assess
    expect(buildExit).toBe(0);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0, artifactCount: 1, runner: 'fargate' });
    const manifest = JSON.parse((await on.store.getText(manifestKey(BUILD, 'package')))!) as ArtifactManifest;
    expect(manifest.artifacts).toEqual([{ path: 'dist.txt', size: 10, mode: expect.any(Number), type: 'file' }]);
    const archive = Buffer.concat(await (await on.store.get(artifactArchiveKey(BUILD, 'package')))!.toArray());
    expect(archive.includes('hello\n1.2\n')).toBe(true);
    expect(await on.store.getText(stageLogKey(BUILD, 'package'))).toContain('stamped');
    expect(await on.store.getText(stageLogKey(BUILD, 'package'))).toContain('packaged as demo');
    expect(JSON.parse((await on.store.getText(stageResultKey(BUILD, 'package')))!)).toEqual(result);
  });

  it('gives the commands the stage’s secret, keeps it off stdout, and stores the log masked', async () => {
    // Prepare: a stage with a secret, run as the build user (uid 65534) as on Fargate
    const buildId = `${BUILD}-secrets`;
    const token = "tok'en-$(id)-`id`\nline two";
    await on.store.put(sourceKey(buildId), await makeTarGz([file('repo-abc123/README', 'x\n')]));
    const stage = plannedStage({
      name: 'deploy',
      runner: 'fargate',
      secrets: { TOKEN: secretRef('buildfarm/deploy-token') },
      commands: [
        `test ! -e ${join(on.dir, 'logs3', 'secrets')} && echo secrets-file-gone`,
        // The value stays out of the command line: the command compares its hash.
        `[ "$(printf '%s' "$TOKEN" | sha256sum | cut -c1-64)" = ${createHash('sha256').update(token).digest('hex')} ] && echo token-matches`,
        'echo "deploying with $TOKEN"',
      ],
    });
    const plan: Plan = { version: 1, waves: [['deploy']], stages: [stage], skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0, secretsWithheld: false };
    await on.store.put(planKey(buildId), JSON.stringify(plan));
    const context: HelperContext = {
      buildId,
      stageName: 'deploy',
      planKey: planKey(buildId),
      workspace: join(on.dir, 'ws3'),
      workspaceUid: 65534,
      fromFork: false,
      helperDir: join(on.dir, 'bf3'),
      logsDir: join(on.dir, 'logs3'),
    };
    for (const d of [context.workspace, context.helperDir, context.logsDir]) mkdirSync(d);
    chmodSync(on.dir, 0o755);
    let buildExit: number | null = null;
    const deps: HelperDeps = {
      store: on.store,
      secrets: new MapSecrets({ 'buildfarm/deploy-token': token }),
      prepareWorkspace,
      findArtifacts,
      uploadArtifacts,
      keys: { stageLogKey, manifestKey, stageResultKey },
      log: new StageLog(join(on.dir, 'helper3.txt'), new CapturedOutput()),
      now: Date.now,
      taskMetadata: async () => ({ Containers: [{ Name: 'build', KnownStatus: 'STOPPED', ExitCode: buildExit }] }),
    };

    // Act: fetch, the build container as uid 65534, publish
    await runFetch(context, deps);
    const build = spawnSync('sh', [join(context.helperDir, 'stage.sh')], { encoding: 'utf8', uid: 65534, gid: 65534 });
    buildExit = build.status;
    const result = await runPublish(context, deps);

    // Assess
    const log = (await on.store.getText(stageLogKey(buildId, 'deploy')))!;
    expect(buildExit).toBe(0);
    expect(result).toMatchObject({ status: 'succeeded', exitCode: 0 });
    expect(log).toContain('secrets-file-gone');
    expect(log).toContain('token-matches');
    expect(log).toContain(`deploying with ${MASK}`);
    expect(log).not.toContain('tok\'en');
    expect(log).not.toContain('line two');
    expect(build.stdout + build.stderr).not.toContain('deploying');
  });

  it('refuses a fork’s stage its secrets before anything runs, and says so in its result', async () => {
    // Prepare
    const stage = plannedStage({ name: 'deploy', runner: 'fargate', secrets: { TOKEN: secretRef('buildfarm/token') } });
    const plan: Plan = { version: 1, waves: [['deploy']], stages: [stage], skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 0, secretsWithheld: false };
    await on.store.put(`builds/${BUILD}-2/plan.json`, JSON.stringify(plan));
    const context: HelperContext = {
      buildId: `${BUILD}-2`,
      stageName: 'deploy',
      planKey: `builds/${BUILD}-2/plan.json`,
      workspace: join(on.dir, 'ws2'),
      workspaceUid: 0,
      fromFork: true,
      helperDir: join(on.dir, 'bf2'),
      logsDir: join(on.dir, 'logs2'),
    };
    const secrets = new MapSecrets({ 'buildfarm/token': 'never-read' });
    const deps = {
      store: on.store,
      secrets,
      prepareWorkspace,
      findArtifacts,
      uploadArtifacts,
      keys: { stageLogKey, manifestKey, stageResultKey },
      log: new StageLog(join(on.dir, 'helper2.txt'), new CapturedOutput()),
      now: Date.now,
      taskMetadata: async () => ({}),
    } satisfies HelperDeps;

    // Act
    const attempt = runFetch(context, deps);

    // Assess
    await expect(attempt).rejects.toMatchObject({ name: 'SecretsDeniedForFork' });
    expect(secrets.asked).toEqual([]);
    expect(JSON.parse((await on.store.getText(stageResultKey(`${BUILD}-2`, 'deploy')))!)).toMatchObject({
      status: 'failed',
      errorName: 'SecretsDeniedForFork',
    });
  });
});
