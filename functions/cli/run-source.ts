/**
 * What `buildfarm run DIR` builds: the git repository DIR is in (DIR itself as the root when it is a
 * folder inside it), at HEAD, or, with `--working-tree`, as the files are on disk. Says so when
 * HEAD lacks uncommitted changes to tracked files, which a user who just edited the pipeline
 * file would otherwise not expect.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import { git, GitMissing } from './git.js';
import { gitBatch, type GitAnswer } from './git-batch.js';
import { changedPaths, commitWorkingTree, nameSome, UNCOMMITTED_CHANGES, uncommittedChanges } from './working-tree.js';

export interface RunSource {
  /** The repository's top folder. */
  top: string;
  /** DIR's path from the top ('' for the top itself). */
  subdirectory: string;
  sha: string;
  branch: string;
  message: string;
  /** `local/<DIR's name>`, as the build's repository. */
  repository: string;
  workingTree: boolean;
}

export async function resolveRunSource(dir: string, options: { workingTree: boolean }, warn: (text: string) => void): Promise<RunSource> {
  // Every question for git at once, before anything is awaited (`buildfarm run` loads the farm
  // while git answers). The answers are judged in order: the directory first (git run in a missing
  // directory fails like a missing git), then the repository, then the rest.
  const [info, { where, head }] = await Promise.all([stat(dir).catch(() => undefined), askGit(dir, options.workingTree)]);
  if (info === undefined) throw new UserError(`${dir}: no such directory`);
  if (!info.isDirectory()) throw new UserError(`${dir} is not a directory: buildfarm run builds the git repository in a directory`);
  if ('error' in where) {
    if (where.error instanceof UserError && where.error.name === 'GitMissing') throw where.error;
    throw new UserError(`${dir} is not inside a git repository: buildfarm run builds a commit (git init, git commit first)`);
  }
  const { top, prefix, symbolic } = where.value;
  const subdirectory = prefix.replace(/\/$/, '');
  const branch = symbolic || 'HEAD';
  const name = path.basename(subdirectory || top);
  const repository = `local/${name.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
  const base = { top, subdirectory, branch, repository };
  if (options.workingTree) {
    const message = `buildfarm run --working-tree: ${branch} as it is on disk`;
    return { ...base, sha: await commitWorkingTree(top, message), message, workingTree: true };
  }
  if (head === undefined) throw new Error('unreachable: HEAD is asked for unless --working-tree');
  if ('error' in head) throw head.error;
  if (head.value === undefined) throw new UserError(`${top} has no commit yet: buildfarm run builds HEAD (commit first, or build the files as they are with --working-tree)`);
  const { sha, message, changed } = head.value;
  if (changed.length > 0) {
    warn(
      `warning: building HEAD (${sha.slice(0, 7)}), which does not have the uncommitted changes to ${changed.length} tracked ` +
        `file${changed.length === 1 ? '' : 's'}: ${nameSome(changed)}. Commit them, or add --working-tree to build the files as they are.\n`,
    );
  }
  return { ...base, sha, message, workingTree: false };
}

type Outcome<T> = { value: T } | { error: unknown };
const settle = <T>(promise: Promise<T>): Promise<Outcome<T>> => promise.then((value) => ({ value }), (error: unknown) => ({ error }));

interface Located {
  top: string;
  prefix: string;
  /** '' when HEAD is detached. */
  symbolic: string;
}

interface HeadCommit {
  sha: string;
  message: string;
  changed: string[];
}

/**
 * rev-parse prints the top folder, DIR's path from it (an empty line at the top) and, with
 * --abbrev-ref, HEAD's branch (`HEAD` when detached). It fails before the first commit (HEAD names
 * no commit) and outside a repository: locate() then asks again, one question at a time.
 */
const LOCATE = ['rev-parse', '--show-toplevel', '--show-prefix', '--abbrev-ref', 'HEAD'];
const HEAD_LOG = ['log', '-1', '--format=%H%n%s'];

/**
 * Where DIR is and (unless --working-tree) HEAD's commit: three questions in one process
 * (git-batch.ts), or one process each when `sh` cannot run them.
 */
async function askGit(dir: string, workingTree: boolean): Promise<{ where: Outcome<Located>; head: Outcome<HeadCommit | undefined> | undefined }> {
  const answers = await gitBatch(dir, workingTree ? [LOCATE] : [LOCATE, HEAD_LOG, UNCOMMITTED_CHANGES]).catch((error: unknown) => error);
  if (answers instanceof GitMissing) return { where: { error: answers }, head: workingTree ? undefined : { error: answers } };
  const batch = Array.isArray(answers) ? (answers as GitAnswer[]) : undefined;
  const [where, head] = await Promise.all([settle(locate(dir, batch?.[0])), workingTree ? undefined : settle(headCommit(dir, batch?.[1], batch?.[2]))]);
  return { where, head };
}

async function locate(dir: string, answer: GitAnswer | undefined): Promise<Located> {
  const asked = answer === undefined ? await git(dir, LOCATE).catch(() => undefined) : answer.ok ? answer.stdout : undefined;
  if (asked !== undefined) {
    const [top = '', prefix = '', branch = ''] = asked.split('\n');
    return { top, prefix, symbolic: branch === 'HEAD' ? '' : branch };
  }
  // No commit yet, or no repository (rev-parse alone says which): symbolic-ref names an unborn branch.
  const [folders, symbolic] = await Promise.all([
    git(dir, ['rev-parse', '--show-toplevel', '--show-prefix']),
    git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']).catch(() => ''),
  ]);
  const [top = '', prefix = ''] = folders.split('\n');
  return { top, prefix, symbolic };
}

/** HEAD's commit, its subject and the uncommitted changes under `dir`; undefined before the first commit. */
async function headCommit(dir: string, log: GitAnswer | undefined, diff: GitAnswer | undefined): Promise<HeadCommit | undefined> {
  // The diff fails too before the first commit: its error counts only once HEAD is known to exist.
  const [commit, changed] =
    log && diff
      ? [log.ok ? log.stdout : undefined, diff.ok ? changedPaths(diff.stdout) : { error: new UserError(`git ${UNCOMMITTED_CHANGES.join(' ')} failed in ${dir}: ${diff.stderr}`) }]
      : await Promise.all([git(dir, HEAD_LOG).catch(() => undefined), uncommittedChanges(dir).catch((error: unknown) => ({ error }))]);
  if (commit === undefined) return undefined;
  if (!Array.isArray(changed)) throw changed.error;
  const [sha = '', message = ''] = commit.split('\n');
  return { sha, message, changed };
}
