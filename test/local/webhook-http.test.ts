import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { githubExample } from '../support/github-examples.js';
import { TEST_SECRET } from '../support/signed-request.js';
import { startTestFarm, type TestFarm } from './support/test-farm.js';

const REPOSITORY = 'Codertocat/Hello-World';

/** A real push to a branch (refs/heads/master) from @octokit/webhooks-examples. */
function branchPush(): Record<string, unknown> {
  return githubExample('push', (payload) => (payload.ref as string).startsWith('refs/heads/') && payload.deleted === false);
}

async function deliver(url: string, event: string, payload: unknown, options: { deliveryId: string; secret?: string; signature?: string }) {
  const body = JSON.stringify(payload);
  return fetch(`${url}/webhook`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId,
      'x-hub-signature-256': options.signature ?? signBody(options.secret ?? TEST_SECRET, body),
    },
    body,
  });
}

describe('POST /webhook over HTTP (real GitHub payloads)', () => {
  let farm: TestFarm;

  beforeEach(async () => {
    farm = await startTestFarm({ repositories: [REPOSITORY] });
  });

  afterEach(async () => {
    await farm.close();
  });

  it('builds the pushed commit of a mapped repository from a signed push', async () => {
    // Prepare
    const payload = branchPush();
    // Act
    const response = await deliver(farm.url, 'push', payload, { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000001' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'accepted' });
    const [build] = farm.farm.list();
    expect(build).toMatchObject({ repository: REPOSITORY, ref: payload.ref, sha: payload.after });
    expect((await farm.farm.settled(build.id)).state).toBe('succeeded');
    expect(farm.bus.messages('BuildRequests')).toHaveLength(1);
    expect(farm.farm.get(build.id)!.reportMessage).not.toBeNull();
  });

  it('answers a forged signature with 401 and builds nothing', async () => {
    // Prepare
    const payload = branchPush();
    // Act
    const response = await deliver(farm.url, 'push', payload, { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000002', secret: 'not-the-secret' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(401);
    expect(farm.bus.messages('BuildRequests')).toEqual([]);
    expect(farm.farm.list()).toEqual([]);
  });

  it('builds a redelivered push once', async () => {
    // Prepare
    const payload = branchPush();
    const deliveryId = 'a1b2c3d4-0000-11ef-8000-000000000003';
    // Act: GitHub's "Redeliver" sends the same delivery id and body again.
    const first = await deliver(farm.url, 'push', payload, { deliveryId });
    await farm.bus.idle();
    const again = await deliver(farm.url, 'push', payload, { deliveryId });
    await farm.bus.idle();
    // Assess
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(farm.bus.messages('BuildRequests')).toHaveLength(2);
    expect(farm.farm.list()).toHaveLength(1);
    await farm.farm.settled(farm.farm.list()[0].id);
    expect(farm.runner.runs).toHaveLength(1);
  });

  it('skips a push for a repository the farm does not map', async () => {
    // Prepare
    const payload = branchPush();
    (payload.repository as Record<string, unknown>).full_name = 'someone-else/other-repo';
    // Act
    const response = await deliver(farm.url, 'push', payload, { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000004' });
    await farm.bus.idle();
    // Assess
    expect(response.status).toBe(202);
    expect(await response.json()).toMatchObject({ status: 'skipped', reason: expect.stringContaining('someone-else/other-repo') });
    expect(farm.farm.list()).toEqual([]);
  });

  it('answers a signed ping with pong', async () => {
    // Prepare
    const payload = githubExample('ping', () => true);
    // Act
    const response = await deliver(farm.url, 'ping', payload, { deliveryId: 'a1b2c3d4-0000-11ef-8000-000000000005' });
    // Assess
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: 'pong' });
  });
});
