/**
 * Issue 10, the local half, on a machine without bubblewrap
 * (BUILDFARM_SANDBOX=off forces it): `buildfarm serve` says so loudly at
 * start and in every stage log, and the daemons of sandbox-escape.test.ts
 * (setsid, nohup, double fork, env -i, the 512-leaf tree, the planted reader)
 * are still killed, through the command's cgroup and the stage marker. The
 * farm's environment IS readable there: the test shows it, as the docs warn.
 */
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGE_MARKER_VARIABLE } from '../../functions/runner/stage-containment.js';
import { liveSleeps } from './support/processes.js';
import { daemons, laterPipeline, TREE_LEAVES } from './support/sandbox-attacks.js';
import { attackEnv, CANARY, commit, deliver, GONE, log, push, SETUP_MS, startScene, stopScene, survivors, type Scene } from './support/sandbox-scene.js';

const attack = daemons(73_200);

describe('Hostile: the same farm on a machine without bubblewrap (BUILDFARM_SANDBOX=off)', { timeout: 120_000 }, () => {
  let scene: Scene;
  let buildId: string;

  beforeAll(async () => {
    scene = await startScene({ BUILDFARM_SANDBOX: 'off' });
    const env = attackEnv(scene);
    const pipeline = `version: 1\nstages:\n  daemons:\n    runner: lambda\n    env:\n${Object.entries(env).map(([k, v]) => `      ${k}: ${JSON.stringify(v)}`).join('\n')}\n    commands:\n      - sh daemons.sh\n      - tr '\\0' '\\n' < /proc/$PPID/environ | grep -a AWS_SECRET_ACCESS_KEY || true\n`;
    const sha = await commit(scene.repo, { '.buildfarm.yml': pipeline, 'daemons.sh': attack.script }, 'Daemons');
    buildId = await deliver(scene, 'push', push(sha), 'a1b2c3d4-0000-4000-8000-0000000b0001');
  }, SETUP_MS);

  afterAll(() => stopScene(scene, attack));

  it('says loudly, at start and in the stage log, that there is no sandbox; and there the farm\'s environment is readable, as the docs warn', async () => {
    expect(scene.serve.output()).toContain('WARNING: stage commands run WITHOUT a sandbox: BUILDFARM_SANDBOX=off');
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('== WARNING: no sandbox for this stage\'s commands: BUILDFARM_SANDBOX=off');
    // The weakness the sandbox closes, shown: without it, the parent's environment holds the farm's canary.
    expect(text).toContain(CANARY.aws);
  });

  it('still kills every daemon (setsid, nohup, double fork, env -i, the 512-leaf tree, the planted process) and reports it in the log', async () => {
    // Prepare
    const text = await log(scene, buildId, 'daemons');
    expect(text).toContain('DAEMONS-STARTED');
    expect(Number(/leaves=(\d+)/.exec(text)?.[1])).toBe(TREE_LEAVES);
    const marker = /marker=([0-9a-f-]+)/.exec(text)![1]!;
    // Assess
    expect(text).toMatch(/== killed \d+ processes the command left running outside its process tree/);
    expect(survivors({ environ: `${STAGE_MARKER_VARIABLE}=${marker}` })).toEqual([]);
    for (const argument of attack.markers) await expect.poll(() => liveSleeps(argument), GONE).toEqual([]);
    expect(survivors({ argv: attack.planted })).toEqual([]);
    // Act: a later build; the planted process, had it survived, would write its environment to the loot file.
    const later = await commit(scene.repo, { '.buildfarm.yml': laterPipeline(CANARY.later) }, 'Later work');
    await deliver(scene, 'push', push(later), 'a1b2c3d4-0000-4000-8000-0000000b0002');
    expect(await readFile(scene.loot, 'utf8').catch(() => '')).not.toContain(CANARY.later);
  });
});
