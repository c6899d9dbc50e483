/**
 * The Lambda runner's sweep of leftover processes (runner/stray-processes.ts).
 *
 * - Against real processes: a throwaway uid (this machine runs tests as root, and a sweep
 *   as root would kill the machine) plants setsid, double-fork, nohup, TERM-ignoring and
 *   self-forking daemons, then sweeps from under a shell of the same uid. Nothing of that
 *   uid may be left, and the sweeper and its ancestor shell must survive.
 * - Against a /proc fixture: ancestors and zombies are spared, other uids untouched, and
 *   a process that cannot be killed fails the sweep loudly.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killStrayProcesses, readProcesses, sweepStrayProcesses } from '../../functions/runner/stray-processes.js';

const ROOT = resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

describe('Function: sweepStrayProcesses on real processes', () => {
  // A uid nothing else on the machine uses, so the sweep touches only what this test planted.
  const uid = 42_000 + (process.pid % 10_000);

  afterAll(async () => {
    // Whatever happened above, leave nothing of the throwaway uid behind (only its processes are signalled).
    if (isRoot) await killStrayProcesses({ uid });
  });

  it.skipIf(!isRoot)('kills setsid and double-fork daemons of its uid and spares itself and its ancestor shell', async () => {
    // Prepare
    const script = join(ROOT, 'test/runner/fixtures/stray-sweep.ts');
    const command = `"${process.execPath}" --import tsx "${script}"; echo "ancestor shell survived: $?"`;

    // Act
    const run = spawnSync('sh', ['-c', command], { cwd: ROOT, uid, gid: uid, encoding: 'utf8', timeout: 60_000, env: { PATH: process.env.PATH, HOME: '/tmp' } });

    // Assess
    expect(run.stderr).toBe('');
    const [report, trailer] = run.stdout.trim().split('\n');
    const seen = JSON.parse(report!) as { before: number; steady: number[]; sweep: { killed: number[]; survivors: unknown[]; error?: string } };
    expect(seen.before).toBeGreaterThanOrEqual(8);
    expect(seen.sweep.error).toBeUndefined();
    expect(seen.sweep.survivors).toEqual([]);
    // Every long-lived stray was killed by the sweep, not left to end by itself.
    expect(seen.steady.length).toBeGreaterThanOrEqual(7);
    expect(seen.steady.filter((pid) => !seen.sweep.killed.includes(pid))).toEqual([]);
    expect(trailer).toBe('ancestor shell survived: 0');
    const left = (await readProcesses()).filter((p) => p.uids.includes(uid) && p.state !== 'Z');
    expect(left).toEqual([]);
  });
});

/** A fake /proc: one directory per pid with a status file. */
function fakeProc(rows: { pid: number; ppid: number; uid: number; state?: string; name?: string }[]): string {
  const root = mkdtempSync(join(tmpdir(), 'fake-proc-'));
  for (const row of rows) {
    mkdirSync(join(root, String(row.pid)));
    writeFileSync(
      join(root, String(row.pid), 'status'),
      `Name:\t${row.name ?? 'sh'}\nState:\t${row.state ?? 'S'} (sleeping)\nPPid:\t${row.ppid}\nUid:\t${row.uid}\t${row.uid}\t${row.uid}\t${row.uid}\n`,
    );
  }
  return root;
}

describe('Function: killStrayProcesses on a /proc fixture', () => {
  const roots: string[] = [];
  afterAll(() => roots.forEach((root) => rmSync(root, { recursive: true, force: true })));

  it('signals only same-uid processes outside its ancestry, and not zombies', async () => {
    // Prepare: 1 init (root) > 10 runtime (993) > 20 runner (993, self); 30 a daemon of 993 under init; 31 a zombie; 40 root's.
    const procRoot = fakeProc([
      { pid: 1, ppid: 0, uid: 0 },
      { pid: 10, ppid: 1, uid: 993 },
      { pid: 20, ppid: 10, uid: 993 },
      { pid: 30, ppid: 1, uid: 993 },
      { pid: 31, ppid: 1, uid: 993, state: 'Z' },
      { pid: 40, ppid: 1, uid: 0 },
    ]);
    roots.push(procRoot);
    const signals: string[] = [];

    // Act: the fake kill removes the process, as the kernel would.
    const sweep = await killStrayProcesses({
      procRoot,
      uid: 993,
      selfPid: 20,
      settleMs: 0,
      kill: (pid, signal) => {
        signals.push(`${pid}:${signal}`);
        if (signal === 'SIGKILL') rmSync(join(procRoot, String(pid)), { recursive: true });
      },
    });

    // Assess
    expect(signals).toEqual(['30:SIGSTOP', '30:SIGKILL']);
    expect(sweep).toEqual({ killed: [30], survivors: [] });
  });

  it('waits for a killed process still in the kernel (state D) to die, within its grace period', async () => {
    // Prepare: 56 stays in state D for the first 3 looks after the kill rounds, then is gone.
    const procRoot = fakeProc([
      { pid: 1, ppid: 0, uid: 0 },
      { pid: 20, ppid: 1, uid: 993 },
      { pid: 56, ppid: 1, uid: 993, state: 'D', name: 'exiting' },
    ]);
    roots.push(procRoot);
    let kills = 0;

    // Act
    const sweep = await killStrayProcesses({
      procRoot,
      uid: 993,
      selfPid: 20,
      settleMs: 0,
      maxRounds: 2,
      kill: (pid, signal) => {
        if (signal === 'SIGKILL' && ++kills === 5) rmSync(join(procRoot, String(pid)), { recursive: true });
      },
    });

    // Assess
    expect(sweep).toEqual({ killed: [56], survivors: [] });
  });

  it('counts a process in state D as a survivor once its grace period is over', async () => {
    // Prepare
    const procRoot = fakeProc([
      { pid: 1, ppid: 0, uid: 0 },
      { pid: 20, ppid: 1, uid: 993 },
      { pid: 57, ppid: 1, uid: 993, state: 'D', name: 'stuck' },
    ]);
    roots.push(procRoot);

    // Act
    const sweep = sweepStrayProcesses('end', { procRoot, uid: 993, selfPid: 20, settleMs: 0, maxRounds: 2, uninterruptibleGraceMs: 50, kill: () => undefined });

    // Assess
    await expect(sweep).rejects.toMatchObject({ message: expect.stringContaining('57 (stuck, state D)') });
  });

  it('fails loudly, naming the process, when one survives every round', async () => {
    // Prepare
    const procRoot = fakeProc([
      { pid: 1, ppid: 0, uid: 0 },
      { pid: 20, ppid: 1, uid: 993 },
      { pid: 55, ppid: 1, uid: 993, name: 'stubborn' },
    ]);
    roots.push(procRoot);

    // Act
    const sweep = sweepStrayProcesses('start', { procRoot, uid: 993, selfPid: 20, settleMs: 0, maxRounds: 3, kill: () => undefined });

    // Assess
    await expect(sweep).rejects.toMatchObject({ name: 'StrayProcessesSurvived', message: expect.stringContaining('55 (stubborn') });
  });
});
