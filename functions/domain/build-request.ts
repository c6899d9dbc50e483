/**
 * What the webhook publishes to the BuildRequests topic and the start-build
 * function turns into an execution: small, and free of secrets.
 */
export interface BuildRequest {
  /** X-GitHub-Delivery: the same on a redelivery, so it names the execution. */
  deliveryId: string;
  event: 'push' | 'pull_request';
  /** `owner/name`. */
  repository: string;
  cloneUrl: string;
  /** Full ref, e.g. `refs/heads/main`. */
  ref: string;
  /** Branch name (for a pull request: its head branch). */
  branch: string;
  sha: string;
  /** For a pull request: its base branch. */
  baseBranch?: string;
  pullRequest?: number;
  /** A pull request whose head is in another repository: secrets are never given to it. */
  fromFork: boolean;
  /** The head commit message (for `[skip ci]`). */
  message: string;
  /** Files touched (for `paths` filters), when GitHub lists them. */
  changedFiles?: string[];
  sender: string;
  receivedAt: string;
}
