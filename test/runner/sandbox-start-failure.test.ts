/**
 * A sandbox that fails to start is the farm's failure, never the command's exit. bubblewrap
 * exits 1 when it cannot set the sandbox up (once seen under load, reported as "exit 1" for a
 * command that does `exit 3`); its --json-status-fd says whether the command ran at all.
 * bwrap is made to fail for real here: a toolchain directory to bind that does not exist.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import type { BubblewrapSandbox } from '../../functions/runner/sandbox.js';
import { StageLog } from '../../functions/runner/stage-log.js';

const sandbox = probeStageSandbox({ dataDirectory: tmpdir(), setting: undefined });

describe.skipIf(sandbox.kind !== 'bubblewrap')('Function: runCommand, telling a sandbox that failed to start from the command\'s exit', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sandbox-start-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  /** Runs `command` in the real sandbox; `settings` may break it, `onLog` sees each write to the live log. */
  async function run(command: string, settings = sandbox as BubblewrapSandbox, onLog: (text: string) => void = () => undefined) {
    const directories = { workspace: join(root, 'workspace'), home: join(root, 'home'), tmp: join(root, 'tmp') };
    for (const dir of Object.values(directories)) mkdirSync(dir, { recursive: true });
    const output = new Writable({ write: (chunk: Buffer, _encoding, done) => (onLog(chunk.toString()), done()) });
    const log = new StageLog(join(root, 'log.txt'), output);
    const outcome = await runCommand(command, {
      cwd: directories.workspace,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: directories.home },
      log,
      deadline: Date.now() + 60_000,
      now: Date.now,
      diskRoot: root,
      sandbox: { settings, directories },
    }, new ResourcePeaks());
    await log.close();
    return { outcome, log: readFileSync(join(root, 'log.txt'), 'utf8') };
  }

  /** The probed sandbox with one more directory to bind: bwrap fails while it does not exist. */
  function withMissingBind(path: string): BubblewrapSandbox {
    const probed = sandbox as BubblewrapSandbox;
    return { ...probed, toolchain: [...probed.toolchain, path] };
  }

  it('reports a sandbox that fails to start twice as sandbox_failed (never an exit code), the command not run', async () => {
    // Act
    const { outcome, log } = await run('echo ran > ran.txt; exit 3', withMissingBind(join(root, 'missing')));
    // Assess
    expect(outcome).toMatchObject({ kind: 'sandbox_failed', message: expect.stringContaining("Can't find source path") });
    expect(log).toContain('the sandbox failed to start');
    expect(log).not.toContain('ran');
  });

  it('starts the command once more when only the first start failed, and reports its own exit', async () => {
    // Prepare: the bind source appears once the log says the first start failed
    const flaky = join(root, 'flaky');
    const settings = withMissingBind(flaky);
    // Act
    const { outcome, log } = await run('echo second-run; exit 3', settings, (text) => {
      if (text.includes('the sandbox failed to start')) mkdirSync(flaky, { recursive: true });
    });
    // Assess
    expect(outcome).toEqual({ kind: 'exited', exitCode: 3 });
    expect(log.match(/the sandbox failed to start/g)).toHaveLength(1);
    expect(log).toContain('second-run');
  });

  it.each([1, 3, 127])('reports a command that exits %i as that exit, with no retry', async (code) => {
    // Act
    const { outcome, log } = await run(`echo working; exit ${code}`);
    // Assess
    expect(outcome).toEqual({ kind: 'exited', exitCode: code });
    expect(log).not.toContain('the sandbox failed to start');
  });

  it("does not run a command twice that prints bwrap's own complaint and exits 1", async () => {
    // Act
    const { outcome, log } = await run('echo run >> runs.txt; echo "bwrap: loopback: Failed RTM_NEWADDR: No child processes" >&2; exit 1');
    // Assess: (a deploy run twice is not harmless)
    expect(outcome).toEqual({ kind: 'exited', exitCode: 1 });
    expect(log).not.toContain('the sandbox failed to start');
    expect(readFileSync(join(root, 'workspace', 'runs.txt'), 'utf8')).toBe('run\n');
  });

  it("cannot forge bwrap's status: the status descriptor is not the command's", async () => {
    // Act
    const { outcome } = await run('echo \'{ "exit-code": 0 }\' >&5 2>/dev/null; exit 3');
    // Assess
    expect(outcome).toEqual({ kind: 'exited', exitCode: 3 });
  });
});
