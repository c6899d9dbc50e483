/**
 * bubblewrap can fail to set the sandbox up on a loaded machine (`bwrap: loopback: Failed
 * RTM_NEWADDR: No child processes`, exit 1, before the command runs): seen in the hostile
 * suite under load. run-command.ts starts the command once more. The failure is simulated by
 * a command that prints bwrap's line and exits 1 on its first run only, inside the real sandbox.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import { StageLog } from '../../functions/runner/stage-log.js';

const sandbox = probeStageSandbox({ dataDirectory: tmpdir(), setting: undefined });

describe.skipIf(sandbox.kind !== 'bubblewrap')('Function: runCommand, when bubblewrap fails to set the sandbox up', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sandbox-retry-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function run(command: string) {
    const directories = { workspace: join(root, 'workspace'), home: join(root, 'home'), tmp: join(root, 'tmp') };
    for (const dir of Object.values(directories)) mkdirSync(dir, { recursive: true });
    const log = new StageLog(join(root, 'log.txt'), { write: () => true } as unknown as NodeJS.WritableStream);
    const outcome = await runCommand(command, {
      cwd: directories.workspace,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: directories.home },
      log,
      deadline: Date.now() + 60_000,
      now: Date.now,
      diskRoot: root,
      sandbox: { settings: sandbox, directories },
    }, new ResourcePeaks());
    await log.close();
    return { outcome, log: readFileSync(join(root, 'log.txt'), 'utf8') };
  }

  it('starts the command once more, and says so in the log', async () => {
    const { outcome, log } = await run('if [ ! -e tried ]; then : > tried; echo "bwrap: loopback: Failed RTM_NEWADDR: No child processes" >&2; exit 1; fi; echo second-run');
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(log).toContain('the sandbox failed to start');
    expect(log).toContain('second-run');
  });

  it('does not retry a command that failed on its own (any other output)', async () => {
    const { outcome, log } = await run('echo working; exit 1');
    expect(outcome).toEqual({ kind: 'exited', exitCode: 1 });
    expect(log).not.toContain('the sandbox failed to start');
  });
});
