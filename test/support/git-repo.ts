/** A throwaway git repository with one commit, for snapshot tests. */
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempRepo {
  path: string;
  sha: string;
}

/** Files by relative path; a value starting with `#!` is made executable. */
export async function makeGitRepo(files: Record<string, string>): Promise<TempRepo> {
  const path = await mkdtemp(join(tmpdir(), 'repo-'));
  for (const [name, content] of Object.entries(files)) {
    const file = join(path, name);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
    if (content.startsWith('#!')) await chmod(file, 0o755);
  }
  const git = (...args: string[]) => execFileSync('git', args, { cwd: path, encoding: 'utf8' }).trim();
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-q', '-m', 'test');
  return { path, sha: git('rev-parse', 'HEAD') };
}
