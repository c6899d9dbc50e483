import type { CommitStatus } from '../domain/report/commit-statuses.js';

export type { CommitState, CommitStatus } from '../domain/report/commit-statuses.js';

/** Sets a commit status on a repository's commit: GitHub's statuses API (github.com or Enterprise). */
export interface CommitStatusPort {
  /** `repository` is `owner/name`. */
  post(repository: string, sha: string, status: CommitStatus): Promise<void>;
}
