/**
 * StageCredentials (handlers/stage-credentials-core.ts) and the grants Select stages mints
 * (handlers/schedule.ts). The session minter is a recording fake here (the STS request
 * shape is checked against the SDK in test/adapters/aws/stage-access-adapters.test.ts),
 * the store is in memory.
 */
import { batchSlices } from '../../functions/domain/plan/stage-slice.js';
import { batchPlanKey } from '../../functions/domain/storage-keys.js';
import { describe, expect, it } from 'vitest';
import { grantRecordKey, stageGrant } from '../../functions/domain/credentials/grant.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { selectStagesTask } from '../../functions/handlers/schedule.js';
import { cacheScopeFor } from '../../functions/domain/cache/scope.js';
import { grantTokenHash, issueStageAccess, type StageCredentialsDeps } from '../../functions/handlers/stage-credentials-core.js';
import { LocalSessionMinter } from '../../functions/local/local-stage-access.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';
import { plannedStage } from '../support/stages.js';

const NOW = Date.parse('2026-11-30T20:00:00.000Z');
const TOKEN = 'c0ffee'.repeat(10) + 'abcd';
const WEBHOOK_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-system/webhook-secret-AbC123';
const DEPLOY_KEY = { source: 'secretsmanager' as const, id: 'buildfarm/deploy-key', raw: 'secretsmanager:buildfarm/deploy-key' };

async function given(store: MemoryStore, secrets = { DEPLOY_KEY }, lifetimeSeconds = 3600): Promise<void> {
  const grant = stageGrant({ buildId: 'b1', stage: { name: 'deploy', secrets }, secretsWithheld: false, now: NOW, lifetimeSeconds });
  await store.put(grantRecordKey(grantTokenHash(TOKEN)), JSON.stringify(grant));
}

function deps(store: MemoryStore, now = NOW): StageCredentialsDeps & { minter: LocalSessionMinter; read: string[] } {
  const read: string[] = [];
  return {
    store,
    minter: new LocalSessionMinter(() => now),
    secrets: {
      resolve: async (ref) => {
        read.push(ref.id);
        return `value-of-${ref.id}`;
      },
    },
    bucketArn: 'arn:aws:s3:::farm-bucket',
    systemSecretArns: [WEBHOOK_ARN],
    now: () => now,
    read,
  };
}

describe('Function: issueStageAccess', () => {
  it('mints a session narrowed to the build (read) and the stage (write), and resolves the declared secrets', async () => {
    // Prepare
    const store = new MemoryStore();
    await given(store);
    const d = deps(store);
    // Act
    const access = await issueStageAccess({ grant: TOKEN }, d);
    // Assess
    expect(access.secrets).toEqual([{ name: 'DEPLOY_KEY', ref: 'secretsmanager:buildfarm/deploy-key', value: 'value-of-buildfarm/deploy-key' }]);
    const [request] = d.minter.requests;
    expect(request!.sessionName).toBe('bf.b1.deploy');
    expect(request!.durationSeconds).toBe(3600);
    const resources = JSON.parse(request!.policy).Statement.map((s: { Resource: string }) => s.Resource);
    expect(resources).toEqual(['arn:aws:s3:::farm-bucket/builds/b1/*', 'arn:aws:s3:::farm-bucket/builds/b1/stages/deploy/*', 'arn:aws:s3:::farm-bucket']);
  });

  it('refuses an unknown token (GrantUnknown) and a malformed one (MalformedGrantToken) without minting', async () => {
    const store = new MemoryStore();
    const d = deps(store);
    await expect(issueStageAccess({ grant: TOKEN }, d)).rejects.toMatchObject({ name: 'GrantUnknown' });
    await expect(issueStageAccess({ grant: '../grants/x' }, d)).rejects.toMatchObject({ name: 'MalformedGrantToken' });
    expect(d.minter.requests).toEqual([]);
  });

  it('refuses after notAfter (GrantExpired)', async () => {
    const store = new MemoryStore();
    await given(store, { DEPLOY_KEY }, 900);
    await expect(issueStageAccess({ grant: TOKEN }, deps(store, NOW + 901_000))).rejects.toMatchObject({ name: 'GrantExpired' });
  });

  it('refuses once the stage has its result (GrantRevoked), but not after the Lambda attempt that escalates to Fargate', async () => {
    // Prepare: the Lambda attempt timed out, which sends the stage to Fargate with the same grant
    const store = new MemoryStore();
    await given(store);
    await store.put('builds/b1/stages/deploy/result.json', JSON.stringify({ runner: 'lambda', status: 'timed_out', errorName: 'StageTimeout' }));
    // Act + Assess
    await expect(issueStageAccess({ grant: TOKEN }, deps(store))).resolves.toMatchObject({ credentials: { accessKeyId: 'S3RVER' } });
    await store.put('builds/b1/stages/deploy/result.json', JSON.stringify({ runner: 'fargate', status: 'succeeded' }));
    await expect(issueStageAccess({ grant: TOKEN }, deps(store))).rejects.toMatchObject({ name: 'GrantRevoked' });
  });

  it('refuses a grant that names the webhook secret, by ARN or by name, and reads nothing (SystemSecretRefused)', async () => {
    for (const id of [WEBHOOK_ARN, 'buildfarm-system/webhook-secret', WEBHOOK_ARN.slice(0, -7)]) {
      const store = new MemoryStore();
      await given(store, { DEPLOY_KEY, HOOK: { source: 'secretsmanager', id, raw: `secretsmanager:${id}` } } as never);
      const d = deps(store);
      await expect(issueStageAccess({ grant: TOKEN }, d)).rejects.toMatchObject({ name: 'SystemSecretRefused' });
      expect(d.read).toEqual([]);
    }
  });
});

describe('Function: selectStagesTask (grants)', () => {
  const plan = (extra: Partial<Plan> = {}): Plan => ({
    version: 1,
    waves: [['deploy', 'lint']],
    stages: [
      plannedStage({ name: 'deploy', commands: ['true'], secrets: { DEPLOY_KEY } }),
      plannedStage({ name: 'lint', commands: ['true'] }),
    ],
    skipped: [],
    failFast: false,
    cancelSuperseded: false,
    region: 'us-east-1',
    predictedCostUsd: 0,
    ...extra,
    // Plans written before the fork policy carry no secretsWithheld: the fallback is tested too.
  }) as Plan;
  const input = { action: 'selectStages' as const, buildId: 'b1', planKey: 'builds/b1/plan.json', failFast: false, batch: { index: 0, stageCount: 2 }, lambdaRunnerFunctionArn: 'runner' };

  async function select(p: Plan, fromFork: boolean | undefined) {
    const store = new MemoryStore();
    await store.put('builds/b1/plan.json', JSON.stringify(p));
    for (const batch of batchSlices(p, 40)) await store.put(batchPlanKey('builds/b1/plan.json', batch.index), JSON.stringify(batch));
    let n = 0;
    const output = await selectStagesTask({ ...input, fromFork }, { store, now: () => new Date(NOW), newGrantToken: () => String(n++).repeat(64) });
    const grants = output.run.map((stage) => store.json<{ stage: string; secrets: object; notAfter: string; writePrefix: string }>(grantRecordKey(grantTokenHash(stage.grant!)))!);
    return { output, grants, store };
  }

  it('writes one grant per stage under the hash of its token, never the token itself', async () => {
    const { output, grants, store } = await select(plan(), false);
    expect(output.run.map((s) => s.grant)).toEqual(['0'.repeat(64), '1'.repeat(64)]);
    expect(grants.map((g) => [g.stage, g.writePrefix, Object.keys(g.secrets)])).toEqual([
      ['deploy', 'builds/b1/stages/deploy/', ['DEPLOY_KEY']],
      ['lint', 'builds/b1/stages/lint/', []],
    ]);
    const stored = [...store.objects.entries()].map(([key, body]) => `${key} ${body.toString('utf8')}`).join('\n');
    expect(stored).not.toContain('0'.repeat(64));
  });

  it('withholds every secret from a fork, from an unknown origin, and whenever the plan says secretsWithheld', async () => {
    expect((await select(plan(), true)).grants[0]!.secrets).toEqual({});
    expect((await select(plan(), undefined)).grants[0]!.secrets).toEqual({});
    expect((await select({ ...plan(), secretsWithheld: true } as Plan, false)).grants[0]!.secrets).toEqual({});
    expect(Object.keys((await select({ ...plan(), secretsWithheld: false } as Plan, true)).grants[0]!.secrets)).toEqual(['DEPLOY_KEY']);
  });

  it('gives a cached stage the plan\'s cache scopes: a push reads and writes its branch, a pull request only reads; an uncached stage none', async () => {
    const npm = { paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' };
    const cached = (cacheScope: Plan['cacheScope']) => ({ ...plan(), stages: [plannedStage({ name: 'deploy', commands: ['true'], cache: npm }), plannedStage({ name: 'lint', commands: ['true'] })], cacheScope }) as Plan;
    type CacheGrant = { cacheRead?: string[]; cacheWrite?: string };
    const push = (await select(cached(cacheScopeFor({ repository: 'octo/app', event: 'push', branch: 'main', fromFork: false })), false)).grants as CacheGrant[];
    expect(push[0]).toMatchObject({ cacheRead: ['caches/octo/app/main/'], cacheWrite: 'caches/octo/app/main/' });
    expect(push[1]!.cacheRead).toBeUndefined();
    expect(push[1]!.cacheWrite).toBeUndefined();
    const pr = (await select(cached(cacheScopeFor({ repository: 'octo/app', event: 'pull_request', branch: 'feature/x', baseBranch: 'main', fromFork: false })), false)).grants as CacheGrant[];
    expect(pr[0]!.cacheRead).toEqual(['caches/octo/app/feature!2fx/', 'caches/octo/app/main/']);
    expect(pr[0]!.cacheWrite).toBeUndefined();
  });

  it('lets the grants of a wave live as long as all its stages run one after another, plus an hour', async () => {
    const { grants } = await select(plan(), false);
    // Two Lambda stages (plannedStage's default): each 900 s of Lambda plus its timeout, then the margin.
    const stages = plan().stages;
    const expected = stages.reduce((sum, s) => sum + (s.runner === 'lambda' ? 900 : 0) + s.timeoutSeconds, 0) + 3600;
    expect(Date.parse(grants[0]!.notAfter) - NOW).toBe(expected * 1000);
  });
});
