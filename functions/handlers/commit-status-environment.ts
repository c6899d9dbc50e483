/**
 * The GitHub commit status client of the plan and report functions, from their environment:
 * only when `GITHUB_TOKEN_SECRET_ARN` names a Secrets Manager secret (its value is the token
 * itself), optionally against a GitHub Enterprise Server (`GITHUB_API_URL`,
 * `https://{host}/api/v3`). Without it, no statuses are posted.
 */
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { GitHubCommitStatusClient } from '../adapters/github/commit-status-client.js';
import type { CommitStatusPort } from '../ports/commit-status.js';
import { MissingSetting } from './task-environment.js';

/**
 * A token rotated in Secrets Manager is picked up within this time by warm sandboxes; in between,
 * Powertools serves it from its cache instead of calling Secrets Manager on every build.
 */
export const TOKEN_CACHE_SECONDS = 300;

/** The GitHub token named by `GITHUB_TOKEN_SECRET_ARN` (cached), or undefined when none is configured. */
export async function githubTokenFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const arn = env.GITHUB_TOKEN_SECRET_ARN;
  if (!arn) return undefined;
  const value = await getSecret(arn, { maxAge: TOKEN_CACHE_SECONDS });
  const token = typeof value === 'string' ? value.trim() : value instanceof Uint8Array ? Buffer.from(value).toString('utf8').trim() : '';
  if (!token) throw new MissingSetting(`the secret ${arn} (GITHUB_TOKEN_SECRET_ARN) holds no GitHub token`);
  return token;
}

export async function commitStatusesFromEnvironment(env: NodeJS.ProcessEnv = process.env): Promise<CommitStatusPort | undefined> {
  const token = await githubTokenFromEnvironment(env);
  if (!token) return undefined;
  return new GitHubCommitStatusClient({ token, ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}) });
}
