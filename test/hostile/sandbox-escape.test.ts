/**
 * Issue 10, the local half: a fork's pull request is the attacker. It arrives
 * as a signed `pull_request` delivery at `buildfarm serve`'s own server (the
 * real CLI in a process of its own: webhook, bus, start-build, state machine,
 * local Lambda and Fargate executors), and its stages try to read the farm's
 * environment (a canary GITHUB_WEBHOOK_SECRET and AWS_SECRET_ACCESS_KEY are
 * in it), every visible /proc/<pid>/environ and cmdline, the secrets file and
 * data directory by walking up, the farm user's ~/.aws, s3rver and the
 * dashboard on loopback; and to leave processes behind in every daemonising
 * pattern, a 512-leaf self-daemonising fork tree, and a planted process that
 * reads a later build's environment. Every attempt must come back empty (the
 * canaries are grepped from the stage logs) and nothing may survive its stage
 * (/proc is scanned from here). The same farm without bubblewrap is
 * sandbox-fallback.test.ts.
 */
import { lstat, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { STAGE_MARKER_VARIABLE } from '../../functions/runner/stage-containment.js';
import { liveSleeps } from './support/processes.js';
import { attackPipeline, daemons, laterPipeline, READS_SCRIPT, TREE_LEAVES } from './support/sandbox-attacks.js';
import {
  attackEnv, CANARY, commit, deliver, EMBEDDED_BUCKET, expectNoCanary, forkPullRequest, getJson, log, push, SETUP_MS, startScene, stopScene, survivors, type Scene,
} from './support/sandbox-scene.js';

const probed = probeStageSandbox({ dataDirectory: tmpdir() });

const attack = daemons(73_100);

describe('Hostile: a fork pull request attacks the local farm through its sandbox', { timeout: 120_000 }, () => {
  let scene: Scene;
  let buildId: string;

  beforeAll(async () => {
    if (probed.kind !== 'bubblewrap') return;
    scene = await startScene();
    const sha = await commit(scene.repo, { '.buildfarm.yml': attackPipeline(attackEnv(scene)), 'reads.sh': READS_SCRIPT, 'daemons.sh': attack.script }, 'Improve the docs');
    buildId = await deliver(scene, 'pull_request', forkPullRequest(sha), 'a1b2c3d4-0000-4000-8000-0000000a0001');
  }, SETUP_MS);

  afterAll(() => stopScene(scene, attack));

  it.runIf(probed.kind === 'bubblewrap')('runs the fork as a fork, in bubblewrap, and says so at start', async () => {
    const record = await getJson<BuildDetail>(`${scene.serve.url}/api/builds/${encodeURIComponent(buildId)}`);
    expect(record.request.fromFork).toBe(true);
    expect(record.stages.map((s) => [s.name, s.status])).toEqual(expect.arrayContaining([['reads-lambda', 'succeeded'], ['reads-fargate', 'succeeded'], ['daemons', 'succeeded']]));
    expect(scene.serve.output()).toContain('sandbox: stage commands run in bubblewrap');
  });

  it.runIf(probed.kind === 'bubblewrap').each(['reads-lambda', 'reads-fargate'])(
    'defends against %s reading environments, command lines, the secrets file, the data directory, ~/.aws and the farm\'s services',
    async (stage) => {
      // Assess: the attack ran to its end...
      const text = await log(scene, buildId, stage);
      expect(text).toContain('READS-DONE');
      expect(Number(/visible-pids=(\d+)/.exec(text)?.[1])).toBeLessThan(10);
      for (const service of ['s3rver', 'dashboard', 'host-loopback', 'handoff']) expect(text).toMatch(new RegExp(`${service} refused`));
      // ...and found nothing: no canary anywhere in what it printed.
      expectNoCanary(text);
      // The same object IS there for anyone on the host's loopback: the stage was kept from it, it was not missing.
      expect(await (await fetch(`${scene.serve.s3Endpoint}/${EMBEDDED_BUCKET}/${scene.otherKey}`)).text()).toBe(CANARY.object);
      // So is buildfarm run's socket, which would build any path of the host it is given.
      expect((await lstat(join(scene.data, 'run-handoff', 'farm.sock'))).isSocket()).toBe(true);
    },
  );

  it.runIf(probed.kind === 'bubblewrap')('defends against daemons, a 512-leaf fork tree and a planted process: none outlives its command, none reads a later build', async () => {
    // Prepare: the tree stood inside the stage.
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('DAEMONS-STARTED');
    expect(Number(/leaves=(\d+)/.exec(text)?.[1])).toBe(TREE_LEAVES);
    const marker = /marker=([0-9a-f-]+)/.exec(text)![1]!;
    // Assess: nothing with the stage's marker, sleep arguments or planted name is alive.
    expect(survivors({ environ: `${STAGE_MARKER_VARIABLE}=${marker}` })).toEqual([]);
    for (const argument of attack.markers) expect(liveSleeps(argument), `sleep ${argument}`).toEqual([]);
    expect(survivors({ argv: attack.planted })).toEqual([]);
    // Act: a later, trusted build with a secret and a canary in its environment.
    const later = await commit(scene.repo, { '.buildfarm.yml': laterPipeline(CANARY.later) }, 'Later work');
    const laterId = await deliver(scene, 'push', push(later), 'a1b2c3d4-0000-4000-8000-0000000a0002');
    // Assess: it ran with its secret, and nothing planted saw it.
    expect(await log(scene, laterId, 'later')).toContain('later-done');
    const loot = await readFile(scene.loot, 'utf8').catch(() => '');
    expectNoCanary(loot);
  });
});
