import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { git } from '../../functions/cli/git.js';
import { normaliseDelivery } from '../../functions/domain/webhook/normalise.js';
import { DEMO_REPOSITORY, demoPushPayload, prepareDemoRepository } from '../../functions/local/demo.js';

describe('Function: prepareDemoRepository', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'demo-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('makes the example a one-commit git repository holding its pipeline file, and reuses it on the next start', async () => {
    // Prepare
    const path = join(directory, 'hello-farm');
    // Act
    const first = await prepareDemoRepository(git, path);
    const second = await prepareDemoRepository(git, path);
    // Assess
    expect(first.repository).toBe(DEMO_REPOSITORY);
    expect(first.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(second.sha).toBe(first.sha);
    expect(await git(path, ['rev-list', '--count', 'HEAD'])).toBe('1');
    expect((await git(path, ['ls-tree', '--name-only', 'HEAD'])).split('\n')).toEqual(expect.arrayContaining(['.buildfarm.yml', 'scripts', 'src']));
  });
});

describe('Function: demoPushPayload', () => {
  it('is a push the webhook turns into a build request for the demo commit', () => {
    // Prepare
    const demo = { repository: DEMO_REPOSITORY, path: '/srv/demo', sha: 'a'.repeat(40), message: 'hello-farm: first commit\n' };
    const now = new Date('2026-11-22T10:00:00.000Z');
    // Act
    const decision = normaliseDelivery({ event: 'push', deliveryId: 'd-1', payload: demoPushPayload(demo, now), receivedAt: now, allowlist: [DEMO_REPOSITORY] });
    // Assess
    expect(decision).toEqual({
      build: true,
      request: expect.objectContaining({ repository: DEMO_REPOSITORY, sha: demo.sha, ref: 'refs/heads/main', branch: 'main', event: 'push', fromFork: false }),
    });
  });
});
