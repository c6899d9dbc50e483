/**
 * What `buildfarm run` says about, and can build from, the working tree: the tracked files with
 * uncommitted changes (HEAD, which run builds by default, does not have them), and a commit of
 * the working tree as it is (`--working-tree`).
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { git } from './git.js';

/**
 * Tracked files under `dir` whose content differs from HEAD (staged or not), as paths from the
 * repository's top (what git diff prints).
 * `--no-renames`, so a rename names both files; untracked files are not "changes to tracked files".
 */
export async function uncommittedChanges(dir: string): Promise<string[]> {
  return changedPaths(await git(dir, [...UNCOMMITTED_CHANGES]));
}

/** Against HEAD: staged and unstaged changes alike (a file staged and then reverted on disk is no change). */
export const UNCOMMITTED_CHANGES = ['diff', 'HEAD', '--name-only', '--no-renames', '-z', '--', '.'] as const;

/** The paths in UNCOMMITTED_CHANGES' output. */
export function changedPaths(output: string): string[] {
  return output.split('\0').filter((entry) => entry.length > 0);
}

/** Names for a warning: at most `limit`, then how many more. */
export function nameSome(files: string[], limit = 5): string {
  const shown = files.slice(0, limit).join(', ');
  return files.length > limit ? `${shown} and ${files.length - limit} more` : shown;
}

/**
 * A commit of the working tree of the repository at `top`: tracked files as they are on disk and
 * untracked files git does not ignore, on top of HEAD (no parent in a repository without commits).
 * Made like `git stash create`: through a temporary index, so the user's index, branch and stash
 * are untouched; the commit is on no branch (git's gc prunes it after its expiry).
 */
export async function commitWorkingTree(top: string, message: string): Promise<string> {
  const scratch = await mkdtemp(path.join(tmpdir(), 'buildfarm-index-'));
  try {
    const index = path.join(scratch, 'index');
    const current = path.resolve(top, await git(top, ['rev-parse', '--git-path', 'index']));
    // From the user's index, so git add only rehashes files that changed (a missing index: an empty one).
    await copyFile(current, index).catch(() => undefined);
    const env = {
      GIT_INDEX_FILE: index,
      GIT_AUTHOR_NAME: 'buildfarm run',
      GIT_AUTHOR_EMAIL: 'buildfarm@localhost',
      GIT_COMMITTER_NAME: 'buildfarm run',
      GIT_COMMITTER_EMAIL: 'buildfarm@localhost',
    };
    await git(top, ['add', '--all', '--', '.'], env);
    const tree = await git(top, ['write-tree'], env);
    const head = await git(top, ['rev-parse', '--verify', '--quiet', 'HEAD']).catch(() => '');
    return await git(top, ['commit-tree', tree, ...(head ? ['-p', head] : []), '-m', message], env);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
