/**
 * Issue 13: a stage must not be able to forge another stage's CPU figures (which right-sizing and
 * `resources: auto` act on). A fork's pull request, delivered signed to `buildfarm serve`, runs
 * two stages side by side: `noisy` starts busy loops that leave its process tree every way a shell
 * can (setsid, double fork, nohup) and `quiet` sleeps. Quiet's figures stay at zero; noisy's work
 * either counts as its own (in the sandbox its daemons stay in its PID namespace, under its tree,
 * and die with the command)
 * or, without the sandbox, goes unmeasured: it can only mislead its own recommendation.
 */
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildDetail } from '../../functions/local/build-service.js';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { daemons } from './support/sandbox-attacks.js';
import { commit, deliver, forkPullRequest, getJson, SETUP_MS, startScene, stopScene, type Scene } from './support/sandbox-scene.js';

const probed = probeStageSandbox({ dataDirectory: tmpdir() });
const BUSY = `awk 'BEGIN { for (i = 0; i < 40000000; i++) s += i }'`;
const BURN = `#!/bin/sh
setsid sh -c "${BUSY}" &
(setsid sh -c "${BUSY}" &)
nohup sh -c "${BUSY}" >/dev/null 2>&1 &
echo BURNING
`;
const PIPELINE = [
  'version: 1',
  'stages:',
  '  noisy:',
  '    runner: lambda',
  // One command: in the sandbox, what a command leaves running dies when the command ends.
  "    commands: ['sh burn.sh; sleep 4']",
  '  quiet:',
  '    runner: lambda',
  '    commands: [sleep 4]',
].join('\n');

describe('Hostile: a fork pull request tries to load its CPU onto the stage beside it', { timeout: 120_000 }, () => {
  let scene: Scene;
  let detail: BuildDetail;

  beforeAll(async () => {
    scene = await startScene();
    const sha = await commit(scene.repo, { '.buildfarm.yml': `${PIPELINE}\n`, 'burn.sh': BURN }, 'Faster tests');
    const buildId = await deliver(scene, 'pull_request', forkPullRequest(sha), 'a1b2c3d4-0000-4000-8000-0000000c0013');
    detail = await getJson<BuildDetail>(`${scene.serve.url}/api/builds/${encodeURIComponent(buildId)}`);
  }, SETUP_MS);

  afterAll(() => stopScene(scene, daemons(73_500)));

  it('the quiet stage measures none of it; the noisy one at most its own work', () => {
    const stage = (name: string) => detail.report!.stages.find((s) => s.name === name)!;
    expect(detail.request.fromFork).toBe(true);
    expect(stage('noisy').status).toBe('succeeded');
    expect(stage('quiet').cpuUsage!.seconds).toBeLessThan(0.1);
    expect(stage('quiet').cpuUsage!.peakVcpu).toBeLessThan(0.1);
    // Three loops of about 0.7 s of CPU each: in the sandbox they stay in the stage's tree and count as its own.
    if (probed.kind === 'bubblewrap') expect(stage('noisy').cpuUsage!.seconds).toBeGreaterThan(0.5);
    // Quiet's right-sizing rests on its own figures: the smallest tier, never a larger one.
    expect(detail.report!.rightSizing?.find((r) => r.stage === 'quiet')?.direction ?? 'smaller').toBe('smaller');
  });
});
