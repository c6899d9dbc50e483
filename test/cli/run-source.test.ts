/**
 * What `buildfarm run DIR` builds (run-source.ts), asked of real git repositories: the top folder,
 * DIR's path from it, the branch (none when detached), the commit and its subject, and the errors
 * of a missing folder, a folder outside any repository, and a repository without a commit.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveRunSource } from '../../functions/cli/run-source.js';

const made: string[] = [];
afterAll(async () => {
  await Promise.all(made.map((path) => rm(path, { recursive: true, force: true })));
});

async function repository(branch: string): Promise<{ path: string; git: (...args: string[]) => string }> {
  const path = await realpath(await mkdtemp(join(tmpdir(), 'run-source-')));
  made.push(path);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: path, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', branch);
  return { path, git };
}

const quiet = () => undefined;

describe('Function: resolveRunSource', () => {
  it('names the top folder, the branch, the commit and its subject at the top of a repository', async () => {
    // Prepare
    const { path, git } = await repository('feature/x');
    await writeFile(join(path, 'a.txt'), 'a');
    git('add', '-A');
    git('commit', '-q', '-m', 'first commit');
    // Act
    const source = await resolveRunSource(path, { workingTree: false }, quiet);
    // Assess
    expect(source).toMatchObject({ top: path, subdirectory: '', branch: 'feature/x', sha: git('rev-parse', 'HEAD'), message: 'first commit', workingTree: false });
  });

  it('builds a folder inside the repository as its root, named after that folder', async () => {
    // Prepare
    const { path, git } = await repository('main');
    await mkdir(join(path, 'services', 'api'), { recursive: true });
    await writeFile(join(path, 'services', 'api', 'a.txt'), 'a');
    git('add', '-A');
    git('commit', '-q', '-m', 'api');
    // Act
    const source = await resolveRunSource(join(path, 'services', 'api'), { workingTree: false }, quiet);
    // Assess
    expect(source).toMatchObject({ top: path, subdirectory: 'services/api', repository: 'local/api', branch: 'main' });
  });

  it('calls a detached HEAD `HEAD`', async () => {
    // Prepare
    const { path, git } = await repository('main');
    await writeFile(join(path, 'a.txt'), 'a');
    git('add', '-A');
    git('commit', '-q', '-m', 'one');
    git('checkout', '-q', '--detach');
    // Act
    const source = await resolveRunSource(path, { workingTree: false }, quiet);
    // Assess
    expect(source.branch).toBe('HEAD');
  });

  it('before the first commit: says there is none, and with --working-tree builds it on the unborn branch', async () => {
    // Prepare
    const { path } = await repository('trunk');
    await writeFile(join(path, 'a.txt'), 'a');
    // Act
    const refused = await resolveRunSource(path, { workingTree: false }, quiet).catch((error: Error) => error);
    const working = await resolveRunSource(path, { workingTree: true }, quiet);
    // Assess
    expect(String(refused)).toContain(`${path} has no commit yet`);
    expect(working).toMatchObject({ top: path, branch: 'trunk', workingTree: true, message: 'buildfarm run --working-tree: trunk as it is on disk' });
    expect(working.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  it('says what is wrong with a missing folder and with a folder outside any repository', async () => {
    // Prepare
    const outside = await realpath(await mkdtemp(join(tmpdir(), 'run-source-plain-')));
    made.push(outside);
    // Act
    const missing = await resolveRunSource(join(outside, 'nope'), { workingTree: false }, quiet).catch((error: Error) => error);
    const plain = await resolveRunSource(outside, { workingTree: false }, quiet).catch((error: Error) => error);
    // Assess
    expect(String(missing)).toContain(`${join(outside, 'nope')}: no such directory`);
    expect(String(plain)).toContain(`${outside} is not inside a git repository`);
  });
});
