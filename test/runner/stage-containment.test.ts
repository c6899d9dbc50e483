/**
 * The nets that catch what a command leaves running outside its process tree
 * (functions/runner/stage-containment.ts), on real processes: the marker in
 * the environment, and the cgroup v2 subtree that even `env -i setsid` cannot
 * leave. The whole path through the farm is in test/hostile/sandbox-fallback.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CommandCgroup, killMarked, killMarkedFamily, markedProcesses, newStageMarker, newStageMarkerFamily, STAGE_MARKER_VARIABLE, useStageMarkerFamily } from '../../functions/runner/stage-containment.js';
import { killSleeps, liveSleeps } from '../hostile/support/processes.js';

/** Arguments no other test on the machine gives `sleep`. */
const SLEEPS = ['73301', '73302', '73303', '73304', '73305'];
const GONE = { timeout: 5_000, interval: 100 };

afterEach(() => {
  for (const marker of SLEEPS) killSleeps(marker);
});

describe('Function: killMarked', () => {
  it('kills daemons that left the session and lost their parent, found by the marker they inherited', async () => {
    // Prepare: a double-forked, setsid daemon; its parent shell is gone when spawnSync returns.
    const marker = newStageMarker();
    spawnSync('sh', ['-c', `(setsid sleep ${SLEEPS[0]} &) ; (setsid sh -c 'sleep ${SLEEPS[1]}' &)`], {
      env: { PATH: process.env.PATH, [STAGE_MARKER_VARIABLE]: marker },
      // The daemons would hold inherited pipes open, and spawnSync would wait for them.
      stdio: 'ignore',
    });
    await expect.poll(() => liveSleeps(SLEEPS[1]!).length, GONE).toBe(1);
    expect(liveSleeps(SLEEPS[0]!)).toHaveLength(1);

    // Act
    const killed = await killMarked(marker);

    // Assess
    expect(killed).toBeGreaterThanOrEqual(2);
    await expect.poll(() => [...liveSleeps(SLEEPS[0]!), ...liveSleeps(SLEEPS[1]!)], GONE).toEqual([]);
    expect(await markedProcesses(marker)).toEqual([]);
  });

  it('finds nothing, and kills nothing, for a marker no process carries', async () => {
    expect(await killMarked(newStageMarker())).toBe(0);
  });
});

describe('Class: CommandCgroup', () => {
  it('catches a daemon that clears its environment and leaves its session, where cgroup v2 is writable', async (context) => {
    // Prepare
    const cgroup = await CommandCgroup.open(newStageMarker());
    if (cgroup === undefined) return context.skip('no writable cgroup v2 here: the marker alone is the net');
    spawnSync('sh', cgroup.wrap(`(env -i setsid sleep ${SLEEPS[2]} &)`), { env: { PATH: process.env.PATH }, stdio: 'ignore' });
    await expect.poll(() => liveSleeps(SLEEPS[2]!).length, GONE).toBe(1);

    // Act
    const killed = await cgroup.release();

    // Assess
    expect(killed).toBeGreaterThanOrEqual(1);
    await expect.poll(() => liveSleeps(SLEEPS[2]!), GONE).toEqual([]);
    expect(existsSync(cgroup.path), 'the cgroup is removed').toBe(false);
  });
});

describe('Function: killMarkedFamily (a killed build process\'s stages)', () => {
  it('kills the daemons of every marker of one family, and none of another family', async () => {
    // Prepare: two daemons, each from a stage of a different build process (family)
    const mine = newStageMarkerFamily();
    const other = newStageMarkerFamily();
    for (const [family, sleep] of [[mine, SLEEPS[3]], [other, SLEEPS[4]]] as const) {
      spawnSync('sh', ['-c', `(setsid sleep ${sleep} &)`], { env: { PATH: process.env.PATH, [STAGE_MARKER_VARIABLE]: `${family}-0123456789abcdef01234567` }, stdio: 'ignore' });
    }
    await expect.poll(() => liveSleeps(SLEEPS[4]!).length, GONE).toBe(1);

    // Act
    const killed = await killMarkedFamily(mine);

    // Assess
    expect(killed).toBe(1);
    await expect.poll(() => liveSleeps(SLEEPS[3]!), GONE).toEqual([]);
    expect(liveSleeps(SLEEPS[4]!)).toHaveLength(1);
  });

  it('prefixes every later marker of this process with the family, and refuses a family that is not hex', () => {
    expect(() => useStageMarkerFamily('../etc')).toThrow('8 or more hex digits');
    const family = newStageMarkerFamily();
    useStageMarkerFamily(family);
    expect(newStageMarker()).toMatch(new RegExp(`^${family}-[0-9a-f]{24}$`));
  });
});
