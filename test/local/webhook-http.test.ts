/**
 * POST /webhook over HTTP with real GitHub payloads (@octokit/webhooks-examples),
 * against the local farm as `buildfarm serve` starts it: the real webhook core,
 * the bus, start-build, and real builds of a mapped local repository.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { git } from '../../functions/cli/git.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { createLocalBuildRunner } from '../../functions/local/local-build-runner.js';
import { startLocalFarm, type RunningLocalFarm } from '../../functions/local/start-farm.js';
import { githubExample } from '../support/github-examples.js';

const SECRET = 'webhook-test-secret';
/** The repository of the examples' push payloads. */
const REPOSITORY = 'Codertocat/Hello-World';

/** A real push to a branch, retargeted at a commit of the mapped local repository. */
function branchPush(sha: string): Record<string, unknown> {
  const payload = githubExample('push', (p) => (p.ref as string).startsWith('refs/heads/') && p.deleted === false);
  payload.after = sha;
  if (payload.head_commit) (payload.head_commit as Record<string, unknown>).id = sha;
  return payload;
}

async function deliver(url: string, event: string, payload: unknown, options: { deliveryId: string; secret?: string }) {
  const body = JSON.stringify(payload);
  return fetch(`${url}/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId,
      'x-hub-signature-256': signBody(options.secret ?? SECRET, body),
    },
    body,
  });
}

describe('POST /webhook over HTTP (real GitHub payloads, real builds)', { timeout: 120_000 }, () => {
  let directory: string;
  let sha: string;
  let farm: RunningLocalFarm;

  beforeAll(async () => {
    // Prepare: a local clone of "Codertocat/Hello-World" with a one-stage pipeline.
    directory = await mkdtemp(join(tmpdir(), 'webhook-http-'));
    const repo = join(directory, 'hello-world');
    await mkdir(repo);
    await writeFile(join(repo, '.buildfarm.yml'), 'version: 1\nstages:\n  greet:\n    commands:\n      - mkdir -p out && echo "Hello, $APP" > out/greeting.txt\n    env:\n      APP: world\n    artifacts:\n      - out/*\n');
    await git(repo, ['init', '--quiet', '--initial-branch=master']);
    await git(repo, ['add', '--all']);
    await git(repo, ['-c', 'user.name=Codertocat', '-c', 'user.email=octocat@example.com', 'commit', '--quiet', '-m', 'Greet the world']);
    sha = await git(repo, ['rev-parse', 'HEAD']);
    farm = await startLocalFarm({
      dataDirectory: join(directory, 'data'),
      port: 0,
      repositories: [{ repository: REPOSITORY, path: repo }],
      secret: SECRET,
      secretFromEnvironment: true,
      region: 'us-east-1',
      createRunner: (context) => createLocalBuildRunner(context, { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 }),
    });
  });

  afterAll(async () => {
    await farm?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('builds the pushed commit of a mapped repository from a signed push', async () => {
    // Act
    const response = await deliver(farm.url, 'push', branchPush(sha), { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000001' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'accepted' });
    const [build] = farm.farm.list();
    expect(build).toMatchObject({ repository: REPOSITORY, ref: 'refs/heads/master', sha });
    const record = await farm.farm.settled(build.id);
    expect(record.state, JSON.stringify(record.error)).toBe('succeeded');
    expect(record.report!.stages.map((s) => [s.name, s.status, s.artifacts.map((a) => a.path)])).toEqual([['greet', 'succeeded', ['out/greeting.txt']]]);
    // One archive per stage: the file comes out of it through the dashboard's API.
    expect(await (await fetch(`${farm.url}/api/builds/${build.id}/stages/greet/artifacts/out/greeting.txt`)).text()).toBe('Hello, world\n');
  });

  it('answers a forged signature with 401 and builds nothing', async () => {
    // Prepare
    const before = farm.bus.messages('BuildRequests').length;
    // Act
    const response = await deliver(farm.url, 'push', branchPush(sha), { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000002', secret: 'not-the-secret' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(401);
    expect(farm.bus.messages('BuildRequests')).toHaveLength(before);
    expect(farm.farm.list().some((b) => b.id.includes('000000000002'))).toBe(false);
  });

  it('builds a redelivered push once', async () => {
    // Prepare
    const deliveryId = 'a1b2c3d4-0000-11ef-8000-000000000003';
    const payload = branchPush(sha);
    const buildsBefore = farm.farm.list().length;
    // Act: GitHub's "Redeliver" sends the same delivery id and body again.
    const first = await deliver(farm.url, 'push', payload, { deliveryId });
    await farm.bus.idle();
    const again = await deliver(farm.url, 'push', payload, { deliveryId });
    await farm.bus.idle();
    // Assess
    expect([first.status, again.status]).toEqual([202, 202]);
    const published = farm.bus.messages('BuildRequests').filter((m) => JSON.parse(m.message).deliveryId === deliveryId);
    expect(published).toHaveLength(2);
    const builds = farm.farm.list().filter((b) => b.id.includes('000000000003'));
    expect(builds).toHaveLength(1);
    expect(farm.farm.list()).toHaveLength(buildsBefore + 1);
    expect((await farm.farm.settled(builds[0].id)).state).toBe('succeeded');
    const reports = farm.bus.messages('BuildReports').filter((m) => JSON.parse(m.message).buildId === builds[0].id);
    expect(reports).toHaveLength(1);
  });

  it('skips a push for a repository the farm does not map', async () => {
    // Prepare
    const payload = branchPush(sha);
    (payload.repository as Record<string, unknown>).full_name = 'someone-else/other-repo';
    // Act
    const response = await deliver(farm.url, 'push', payload, { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000004' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'skipped', reason: expect.stringContaining('someone-else/other-repo') });
    expect(farm.farm.list().some((b) => b.repository === 'someone-else/other-repo')).toBe(false);
  });

  it('answers a signed ping with pong', async () => {
    // Act
    const response = await deliver(farm.url, 'ping', githubExample('ping', () => true), { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000005' });
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'pong' });
  });
});
