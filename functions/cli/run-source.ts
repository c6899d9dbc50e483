/**
 * What `buildfarm run DIR` builds: the git repository DIR is in (DIR itself as the root when it is a
 * folder inside it), at HEAD, or, with `--working-tree`, as the files are on disk. Says so when
 * HEAD lacks uncommitted changes to tracked files, which a user who just edited the pipeline
 * file would otherwise not expect.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import { git } from './git.js';
import { commitWorkingTree, nameSome, uncommittedChanges } from './working-tree.js';

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
  // Every question for git at once, before anything is awaited (each is a process of its own: in a
  // row they add up at every start, and `buildfarm run` loads the farm while they run). Their
  // answers are judged in order: the directory first (git run in a missing directory fails like a
  // missing git), then the repository, then the rest.
  const [info, where, head] = await Promise.all([
    stat(dir).catch(() => undefined),
    locate(dir).then(
      (found) => ({ found }),
      (error: unknown) => ({ error }),
    ),
    options.workingTree ? Promise.resolve(undefined) : headCommit(dir).then(
      (commit) => ({ commit }),
      (error: unknown) => ({ error }),
    ),
  ]);
  if (info === undefined) throw new UserError(`${dir}: no such directory`);
  if (!info.isDirectory()) throw new UserError(`${dir} is not a directory: buildfarm run builds the git repository in a directory`);
  if ('error' in where) {
    if (where.error instanceof UserError && where.error.name === 'GitMissing') throw where.error;
    throw new UserError(`${dir} is not inside a git repository: buildfarm run builds a commit (git init, git commit first)`);
  }
  const { top, prefix, symbolic } = where.found;
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
  if (head.commit === undefined) throw new UserError(`${top} has no commit yet: buildfarm run builds HEAD (commit first, or build the files as they are with --working-tree)`);
  const { sha, message, changed } = head.commit;
  if (changed.length > 0) {
    warn(
      `warning: building HEAD (${sha.slice(0, 7)}), which does not have the uncommitted changes to ${changed.length} tracked ` +
        `file${changed.length === 1 ? '' : 's'}: ${nameSome(changed)}. Commit them, or add --working-tree to build the files as they are.\n`,
    );
  }
  return { ...base, sha, message, workingTree: false };
}

/**
 * The repository's top folder, DIR's path from it ('' at the top) and HEAD's branch ('' when
 * detached). One git process in the usual case: rev-parse prints the top, DIR's path from it (an
 * empty line at the top) and, with --abbrev-ref, the branch (`HEAD` when detached). Before the first
 * commit HEAD names no commit and that fails: then rev-parse for the folders, and symbolic-ref,
 * which works without a commit, for the branch.
 */
async function locate(dir: string): Promise<{ top: string; prefix: string; symbolic: string }> {
  try {
    const [top = '', prefix = '', branch = ''] = (await git(dir, ['rev-parse', '--show-toplevel', '--show-prefix', '--abbrev-ref', 'HEAD'])).split('\n');
    return { top, prefix, symbolic: branch === 'HEAD' ? '' : branch };
  } catch {
    const [folders, symbolic] = await Promise.all([
      git(dir, ['rev-parse', '--show-toplevel', '--show-prefix']),
      git(dir, ['symbolic-ref', '--short', '-q', 'HEAD']).catch(() => ''),
    ]);
    const [top = '', prefix = ''] = folders.split('\n');
    return { top, prefix, symbolic };
  }
}

/** HEAD's commit, its subject and the uncommitted changes under `dir`, asked at once; undefined before the first commit. */
async function headCommit(dir: string): Promise<{ sha: string; message: string; changed: string[] } | undefined> {
  // The diff fails too before the first commit: its error counts only once HEAD is known to exist.
  const [commit, changed] = await Promise.all([
    git(dir, ['log', '-1', '--format=%H%n%s']).catch(() => undefined),
    uncommittedChanges(dir).catch((error: unknown) => ({ error })),
  ]);
  if (commit === undefined) return undefined;
  if (!Array.isArray(changed)) throw changed.error;
  const [sha = '', message = ''] = commit.split('\n');
  return { sha, message, changed };
}
