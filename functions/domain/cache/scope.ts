/**
 * Which branches' caches a build may read, and which one it may write: decided once per
 * build (by the Plan step, which runs no user code) and carried in the plan and in every
 * stage's grant, so the session policy enforces it on AWS.
 *
 * The rules follow GitHub Actions' cache isolation
 * (https://docs.github.com/en/actions/using-workflows/caching-dependencies-to-speed-up-workflows#restrictions-for-accessing-a-cache):
 * a build reads its own branch's scope first, then its pull request's base branch; it
 * never reads a sibling branch. Unlike GitHub, a pull request writes nothing at all (GitHub
 * gives it a scope of its own, `refs/pull/N/merge`, that nothing else reads), and a build
 * from a fork neither writes nor reads the fork's head branch: that branch name belongs to
 * another repository and could shadow one of ours. A cache written by a pull request's code
 * could poison every later build of the branch it targets, which is why only pushes write.
 */

export interface CacheScope {
  /** `owner/name`: caches never cross repositories. */
  repository: string;
  /** Branches whose caches are read, first match wins (own branch, then a pull request's base). */
  read: string[];
  /** The branch whose cache scope this build may write; absent for pull requests and forks. */
  write?: string;
}

export interface CacheScopeRequest {
  repository: string;
  event: 'push' | 'pull_request';
  /** The pushed branch, or a pull request's head branch. */
  branch: string;
  baseBranch?: string;
  fromFork: boolean;
}

export function cacheScopeFor(request: CacheScopeRequest): CacheScope {
  const { repository, event, branch, baseBranch, fromFork } = request;
  if (event === 'push') {
    // A push from a fork cannot reach this farm's webhook, but a request saying so still writes nothing.
    return fromFork ? { repository, read: [branch] } : { repository, read: [branch], write: branch };
  }
  const read = fromFork ? [] : [branch];
  if (baseBranch !== undefined && !read.includes(baseBranch)) read.push(baseBranch);
  return { repository, read };
}
