/**
 * `buildfarm run` when no farm takes its build, as a user runs it (bin/buildfarm.mjs): a farm that
 * never answers (stopped with SIGSTOP, or swamped) makes `run` build by itself under another build
 * id, since the farm may still read the message later; and Ctrl-C in a `run` building by itself is
 * said as a stop, not as a crash, its stage's processes gone.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HANDOFF_FOLDER, HANDOFF_SOCKET } from '../../functions/local/run-handoff/protocol.js';
import { makeGitRepo } from '../support/git-repo.js';
import { startRun, until } from './support/run-process.js';

const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

describe('buildfarm run without a farm that takes its build', () => {
  it('builds by itself under another build id when the farm does not answer within 5 s', async () => {
    // Prepare: a socket where the farm's would be, in a folder of the farm's mode, that reads and never answers.
    const repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  only:\n    commands: ["echo built here"]\n' });
    dirs.push(repo.path);
    const data = await tempDir('bf-mute-');
    await mkdir(join(data, HANDOFF_FOLDER), { mode: 0o700 });
    let received = '';
    const mute: Server = createServer((socket) => socket.setEncoding('utf8').on('data', (text: string) => (received += text)));
    await new Promise<void>((resolve) => mute.listen(join(data, HANDOFF_FOLDER, HANDOFF_SOCKET), resolve));
    try {
      // Act
      const { code, stdout, stderr } = await startRun([repo.path, '--data-dir', data]).done;
      // Assess: built here, said why, and not under the id the farm was sent.
      expect(code).toBe(0);
      expect(stderr).toContain('buildfarm run: not handed to buildfarm serve: buildfarm serve did not answer within 5 s; building in this process');
      const sent = (JSON.parse(received.split('\n')[0]!) as { buildId: string }).buildId;
      const built = /as (run-\d{17}-[0-9a-f]{7}(?:-2)?)\n/.exec(stdout)?.[1];
      expect(built).toBeDefined();
      expect(built).not.toBe(sent);
      expect(stdout).toContain(`build ${built} succeeded`);
    } finally {
      await new Promise((resolve) => mute.close(resolve));
    }
  }, 60_000);

  it('says a Ctrl-C is a stop, not a crash, when it builds by itself', async () => {
    // A sleep no other test file runs: the stage's processes must be gone once run has exited.
    const repo = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  waits:\n    commands: ["echo waiting", "sleep 123"]\n' });
    dirs.push(repo.path);
    const data = await tempDir('bf-alone-');
    const run = startRun([repo.path, '--data-dir', data, '--logs']);
    await until(() => run.output().includes('waits | waiting'));
    process.kill(run.pid, 'SIGINT');
    const { code, stderr } = await run.done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/buildfarm run: build run-\d{17}-[0-9a-f]{7} stopped \(Ctrl-C\); its stages were ended\n$/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(sleeping('sleep 123')).toEqual([]);
  }, 60_000);
});

/** Live processes running exactly `command` (pids). */
function sleeping(command: string): number[] {
  const out = execFileSync('ps', ['-eo', 'pid,stat,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([, stat, ...args]) => stat !== undefined && !stat.startsWith('Z') && args.join(' ') === command)
    .map(([pid]) => Number(pid));
}
