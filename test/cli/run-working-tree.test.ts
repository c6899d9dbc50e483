/**
 * `buildfarm run` without surprises: it names the uncommitted changes HEAD lacks, builds the files
 * as they are with --working-tree (leaving the user's index alone), leaves the build's logs,
 * artifacts and report as plain files, and its build is on `buildfarm serve`'s dashboard on the
 * same data directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { startLocalFarm } from '../../functions/local/start-farm.js';
import { runCli } from '../support/cli.js';
import { makeGitRepo } from '../support/git-repo.js';

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const PIPELINE = [
  'version: 1',
  'stages:',
  '  show:',
  '    commands:',
  '      - cat greeting.txt',
  '      - \'if [ -e extra.txt ]; then cat extra.txt; else echo "no" "extra"; fi\'',
  '      - \'if [ -e debug.log ]; then echo "IGNORED" "FILE"; fi\'',
  '      - mkdir -p out && cp greeting.txt out/',
  '    artifacts: [out/**]',
].join('\n');

async function repository(): Promise<string> {
  const repo = await makeGitRepo({ '.buildfarm.yml': PIPELINE, 'greeting.txt': 'committed\n', '.gitignore': '*.log\n', 'notes.md': 'a\n' });
  dirs.push(repo.path);
  // Uncommitted: two tracked files changed, one new untracked file, one ignored file.
  await writeFile(join(repo.path, 'greeting.txt'), 'on disk\n');
  await writeFile(join(repo.path, 'notes.md'), 'b\n');
  await writeFile(join(repo.path, 'extra.txt'), 'untracked extra\n');
  await writeFile(join(repo.path, 'debug.log'), 'ignored\n');
  return repo.path;
}

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bf-wt-'));
  dirs.push(dir);
  return dir;
}

const env = { BUILDFARM_SANDBOX: process.env.BUILDFARM_SANDBOX };

describe('CLI: buildfarm run and the working tree', () => {
  it('builds HEAD, warning about the tracked files with uncommitted changes (by name), not the untracked ones', async () => {
    // Act
    const repo = await repository();
    const data = await dataDir();
    const run = await runCli(['run', repo, '--data-dir', data, '--logs'], { env });
    // Assess: the stage's output (not its echoed commands) says what it built
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('warning: building HEAD (');
    expect(run.stderr).toContain('uncommitted changes to 2 tracked files: greeting.txt, notes.md. Commit them, or add --working-tree');
    expect(run.stderr).not.toContain('extra.txt');
    expect(run.stdout).toContain('committed');
    expect(run.stdout).toContain('no extra');
  });

  it('builds the files as they are on disk with --working-tree (tracked and untracked, not ignored), leaving the index alone', async () => {
    // Prepare
    const repo = await repository();
    const data = await dataDir();
    const statusBefore = execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' });
    // Act
    const run = await runCli(['run', repo, '--data-dir', data, '--working-tree', '--logs'], { env });
    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('warning');
    expect(run.stdout).toContain('on disk');
    expect(run.stdout).toContain('untracked extra');
    expect(run.stdout).not.toContain('IGNORED FILE');
    expect(execFileSync('git', ['status', '--porcelain'], { cwd: repo, encoding: 'utf8' })).toBe(statusBefore);
    expect(execFileSync('git', ['stash', 'list'], { cwd: repo, encoding: 'utf8' })).toBe('');
  });

  it('leaves logs, artifacts and the report as plain files, and serve on the same data directory shows the build', async () => {
    // Prepare
    const repo = await repository();
    const data = await dataDir();
    // Act
    const run = await runCli(['run', repo, '--data-dir', data, '--json'], { env });
    const report = JSON.parse(run.stdout) as BuildReport;
    const files = join(data, 'builds', report.buildId);
    const farm = await startLocalFarm({
      dataDirectory: data,
      port: 0,
      repositories: [],
      secret: 'test-secret',
      secretFromEnvironment: false,
      region: 'us-east-1',
      createRunner: () => ({ run: () => Promise.reject(new Error('serve must not run anything here')) }),
    });
    try {
      const builds = (await (await fetch(`${farm.url}/api/builds`)).json()) as Array<{ id: string; status: string }>;
      const log = await (await fetch(`${farm.url}/api/builds/${encodeURIComponent(report.buildId)}/stages/show/log`)).text();
      // Assess
      expect(builds).toContainEqual(expect.objectContaining({ id: report.buildId, status: 'succeeded' }));
      expect(log).toContain('committed');
    } finally {
      await farm.close();
    }
    expect(await readFile(join(files, 'stages', 'show', 'log.txt'), 'utf8')).toContain('committed');
    expect(await readFile(join(files, 'stages', 'show', 'artifacts', 'out', 'greeting.txt'), 'utf8')).toBe('committed\n');
    expect(JSON.parse(await readFile(join(files, 'report.json'), 'utf8'))).toMatchObject({ buildId: report.buildId, status: 'succeeded' });
  });

  it('names the plain files at the end of a run', async () => {
    const repo = await repository();
    const data = await dataDir();
    const run = await runCli(['run', repo, '--data-dir', data], { cwd: data, env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/files of this build: builds\/run-[^/]+\/\n {2}show {2}builds\/run-[^/]+\/stages\/show\/log\.txt {2}\(\+ 1 artifact in artifacts\/\)/);
    expect(run.stdout).toContain('dashboard: buildfarm serve --data-dir . lists this build');
  });
});
