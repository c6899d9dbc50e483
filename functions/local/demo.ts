/**
 * `npm start` (`buildfarm serve --demo`): on the first start the farm builds
 * the bundled example, through the front door. The example is copied into a
 * git repository under .buildfarm/demo/, mapped like any `--repo`, and a
 * signed push delivery shaped like GitHub's is POSTed to the farm's own
 * /webhook: signature check, bus, start-build, state machine, report.
 */
import { randomUUID } from 'node:crypto';
import { cp, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { signBody } from '../domain/webhook/signature.js';
import { farmFile } from './farm-files.js';
import type { RepositoryMapping } from './repositories.js';

/** The GitHub-style name the demo builds under. */
export const DEMO_REPOSITORY = 'buildfarm-demo/hello-farm';
export const DEMO_BRANCH = 'main';
export const EXAMPLE_DIRECTORY = `${farmFile('examples', 'hello-farm')}/`;

export type Git = (cwd: string, args: string[]) => Promise<string>;

export interface DemoRepository extends RepositoryMapping {
  sha: string;
  message: string;
}

/** Copies the example into `directory` as a one-commit git repository, once; later starts reuse it. */
export async function prepareDemoRepository(git: Git, directory: string, example = EXAMPLE_DIRECTORY): Promise<DemoRepository> {
  if (!(await exists(join(directory, '.git')))) {
    await cp(example, directory, { recursive: true });
    await git(directory, ['init', '--quiet', `--initial-branch=${DEMO_BRANCH}`]);
    await git(directory, ['add', '--all']);
    await git(directory, [
      '-c', 'user.name=buildfarm demo',
      '-c', 'user.email=demo@buildfarm.invalid',
      '-c', 'commit.gpgsign=false',
      'commit', '--quiet', '-m', 'hello-farm: the example the local farm builds on first start',
    ]);
  }
  const sha = await git(directory, ['rev-parse', 'HEAD']);
  const message = await git(directory, ['log', '-1', '--format=%B']);
  return { repository: DEMO_REPOSITORY, path: directory, sha, message };
}

/** A push payload with the fields GitHub sends and the webhook reads (docs: webhook-events-and-payloads#push). */
export function demoPushPayload(demo: DemoRepository, now: Date): Record<string, unknown> {
  const [owner, name] = demo.repository.split('/');
  const timestamp = now.toISOString();
  const author = { name: 'buildfarm demo', email: 'demo@buildfarm.invalid', username: owner };
  return {
    ref: `refs/heads/${DEMO_BRANCH}`,
    before: '0000000000000000000000000000000000000000',
    after: demo.sha,
    created: true,
    deleted: false,
    forced: false,
    base_ref: null,
    compare: `https://github.com/${demo.repository}/commit/${demo.sha.slice(0, 12)}`,
    commits: [{ id: demo.sha, tree_id: demo.sha, distinct: true, message: demo.message, timestamp, url: `https://github.com/${demo.repository}/commit/${demo.sha}`, author, committer: author, added: [], removed: [], modified: [] }],
    head_commit: { id: demo.sha, tree_id: demo.sha, distinct: true, message: demo.message, timestamp, url: `https://github.com/${demo.repository}/commit/${demo.sha}`, author, committer: author, added: [], removed: [], modified: [] },
    repository: {
      id: 1,
      name,
      full_name: demo.repository,
      private: false,
      owner: { login: owner, name: owner, type: 'Organization' },
      html_url: `https://github.com/${demo.repository}`,
      clone_url: `https://github.com/${demo.repository}.git`,
      default_branch: DEMO_BRANCH,
      master_branch: DEMO_BRANCH,
    },
    pusher: { name: owner, email: author.email },
    sender: { login: owner, id: 1, type: 'User' },
  };
}

/** POSTs a signed delivery to `webhookUrl` as GitHub would; returns the HTTP status and body. */
export async function sendSignedDelivery(
  webhookUrl: string,
  secret: string,
  event: string,
  payload: unknown,
  deliveryId: string = randomUUID(),
): Promise<{ status: number; body: string; deliveryId: string }> {
  const body = JSON.stringify(payload);
  const response = await fetch(webhookUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/buildfarm-demo',
      'x-github-event': event,
      'x-github-delivery': deliveryId,
      'x-hub-signature-256': signBody(secret, body),
    },
    body,
  });
  return { status: response.status, body: await response.text(), deliveryId };
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
