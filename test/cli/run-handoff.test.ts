/**
 * `buildfarm run` with a `buildfarm serve` on the same data directory, both as a user starts them
 * (bin/buildfarm.mjs as processes): the build is handed to the farm (it shows there and leaves
 * the same plain files), `run`'s Ctrl-C and its death stop it, a `run` with other settings builds
 * by itself, and a farm that was killed leaves a socket `run` passes over.
 */
import { execFileSync } from 'node:child_process';
import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { startServe, type ServeProcess } from '../local/support/serve-process.js';
import { makeGitRepo } from '../support/git-repo.js';
import { isAlive } from '../support/process-tree.js';
import { startRun, until } from './support/run-process.js';

const dirs: string[] = [];
let data: string;
let serve: ServeProcess;
let repo: string;

/** Served by the farm's dashboard API: the build's state there. */
async function stateOnServe(id: string): Promise<string | undefined> {
  const response = await fetch(`${serve.url}/api/builds/${encodeURIComponent(id)}`);
  return response.ok ? ((await response.json()) as { status: string }).status : undefined;
}

beforeAll(async () => {
  data = await mkdtemp(join(tmpdir(), 'bf-handoff-'));
  dirs.push(data);
  const made = await makeGitRepo({
    '.buildfarm.yml': [
      'version: 1',
      'stages:',
      '  make:',
      '    commands:',
      '      - mkdir -p out/bin && printf "#!/bin/sh\\necho tool\\n" > out/tool && chmod 755 out/tool && ln -s ../tool out/bin/tool',
      '      - echo made by the farm',
      '    artifacts: [out]',
      '  use:',
      '    needs: [make]',
      '    commands: [./out/bin/tool, "test \\"$FAIL\\" != yes", "sleep \\"${SLEEP:-0}\\""]',
      '    env: { FAIL: "no", SLEEP: "0" }',
    ].join('\n'),
  });
  repo = made.path;
  dirs.push(repo);
  serve = await startServe(['--port', '0', '--data-dir', data]);
});

afterAll(async () => {
  await serve?.stop();
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('buildfarm run handed to buildfarm serve', () => {
  it('builds on the farm: progress and report as run prints them, the build on the dashboard, plain files with modes and links', async () => {
    const run = startRun([repo, '--data-dir', data, '--logs']);
    const { code, stdout, stderr } = await run.done;
    expect(stderr).not.toMatch(/not handed/);
    expect(code).toBe(0);
    const id = /as (run-\d{17}-[0-9a-f]{7}), on buildfarm serve \(pid (\d+)\)/.exec(stdout);
    expect(id?.[2]).toBe(String(serve.child.pid));
    expect(stdout).toMatch(/make \| made by the farm/);
    expect(stdout).toMatch(/✓ use succeeded/);
    expect(stdout).toMatch(new RegExp(`build ${id![1]} succeeded`));
    // run has its answer at the report's publication; the farm's bookkeeping (history, spend) ends a moment later.
    await until(async () => (await stateOnServe(id![1])) === 'succeeded');
    expect(serve.output()).toContain(id![1]);
    const files = join(data, 'builds', id![1]);
    expect(((await lstat(join(files, 'stages/make/artifacts/out/tool'))).mode & 0o777).toString(8)).toBe('755');
    expect(await readlink(join(files, 'stages/make/artifacts/out/bin/tool'))).toBe('../tool');
    expect(JSON.parse(await readFile(join(files, 'report.json'), 'utf8'))).toMatchObject({ buildId: id![1], status: 'succeeded' });
  });

  it('prints only the report with --json, and exits 1 when a stage fails', async () => {
    const other = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  fails:\n    commands: ["echo failing; exit 3"]\n' });
    dirs.push(other.path);
    const { code, stdout, stderr } = await startRun([other.path, '--data-dir', data, '--json']).done;
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as BuildReport;
    expect(report).toMatchObject({ status: 'failed', stages: [{ name: 'fails', status: 'failed' }] });
    expect(stderr).toMatch(/on buildfarm serve|sandbox/);
    await until(async () => (await stateOnServe(report.buildId)) === 'failed');
  });

  it('builds in its own process when its settings are not the farm\'s, and says so', async () => {
    const { code, stdout, stderr } = await startRun([repo, '--data-dir', data, '--stage-concurrency', '1', '--optimize', 'cost']).done;
    expect(code).toBe(0);
    expect(stderr).toContain(
      'not handed to buildfarm serve: buildfarm serve was started with other settings: --optimize, --stage-concurrency (flags or their environment variables); building in this process',
    );
    expect(stdout).toMatch(/build run-\d{17}-[0-9a-f]{7} succeeded/);
    expect(stdout).not.toMatch(/on buildfarm serve/);
  });

  it('stops the build on the farm at Ctrl-C, and when run is killed', async () => {
    // A sleep no other test file runs (files run at once): isSleeping looks at every process of the machine.
    const long = await makeGitRepo({ '.buildfarm.yml': 'version: 1\nstages:\n  waits:\n    commands: ["echo waiting", "sleep 127"]\n' });
    dirs.push(long.path);
    for (const signal of ['SIGINT', 'SIGKILL'] as const) {
      const run = startRun([long.path, '--data-dir', data, '--logs']);
      await until(() => run.output().includes('waits | waiting'));
      const id = /as (run-\d{17}-[0-9a-f]{7})/.exec(run.output())![1];
      process.kill(run.pid, signal);
      const { code, stderr } = await run.done;
      if (signal === 'SIGINT') {
        expect(code).toBe(1);
        expect(stderr).toMatch(/stopped by buildfarm run \(Ctrl-C\)/);
      }
      await until(async () => (await stateOnServe(id)) === 'cancelled');
      // The stage's own processes end with the build.
      await until(() => !isSleeping());
    }
  });

  it('passes over the socket of a farm that was killed, building in its own process', async () => {
    await serve.stop('SIGKILL');
    const { code, stdout, stderr } = await startRun([repo, '--data-dir', data]).done;
    expect(code).toBe(0);
    expect(stdout + stderr).not.toMatch(/on buildfarm serve|not handed/);
    expect(stdout).toMatch(/succeeded/);
  });
});

function isSleeping(): boolean {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out.split('\n').some((line) => /\bsleep 127\b/.test(line) && isAlive(Number(line.trim().split(/\s+/)[0])));
}
