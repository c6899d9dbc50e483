/**
 * Linear cost: the S3 requests of each stage of a chain stay constant, however long the
 * chain. Counted at the SDK (a middleware on the real S3 client, one count per command,
 * multipart parts included) while the real planner's plan runs through the real agent
 * against s3rver, and for `Select stages`' reads of result records.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../functions/domain/plan/planner.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { computeBatches } from '../../functions/domain/plan/batches.js';
import { schedulingRequests } from '../../functions/domain/report/usage-estimate.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { runStage } from '../../functions/runner/agent.js';
import { makeGitRepo, type TempRepo } from '../support/git-repo.js';
import { startS3rver, type RunningS3rver } from '../support/s3rver.js';
import { CapturedOutput, MapSecrets, storeSnapshot } from '../support/stages.js';

const CHAIN = 20;

/** `s1 -> s2 -> ... -> sN`; only the stages named in `withArtifacts` declare artifacts. */
function chainPlan(withArtifacts: string[], length = CHAIN): Plan {
  const lines = ['version: 1', 'stages:'];
  for (let i = 1; i <= length; i += 1) {
    lines.push(`  s${i}:`, `    commands: ["echo ${i} > out-${i}.txt"]`);
    if (i > 1) lines.push(`    needs: [s${i - 1}]`);
    if (withArtifacts.includes(`s${i}`)) lines.push(`    artifacts: [out-${i}.txt]`);
  }
  return planPipeline(parsePipeline(lines.join('\n')), { event: 'push', branch: 'main' }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, { prices: DEFAULT_PRICE_BOOK });
}

describe('Linear cost: S3 requests per stage of a chain', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;
  let repo: TempRepo;
  let commands: string[] = [];

  beforeAll(async () => {
    s3 = await startS3rver();
    s3.client.middlewareStack.add(
      (next, context) => async (args) => {
        commands.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'countS3Requests' },
    );
    store = new S3ArtifactStore(s3.client, s3.bucket);
    repo = await makeGitRepo({ 'README.md': 'chain\n' });
  });
  afterAll(async () => {
    await s3.stop();
    await rm(repo.path, { recursive: true, force: true });
  });

  async function requestsPerStage(buildId: string, plan: Plan): Promise<number[]> {
    await storeSnapshot(store, buildId, repo);
    const perStage: number[] = [];
    for (const stage of plan.stages) {
      const workRoot = await mkdtemp(join(tmpdir(), 'chain-'));
      commands = [];
      try {
        const result = await runStage(
          { buildId, stage, runner: 'lambda', workRoot, deadline: Date.now() + 60_000 },
          { store, secrets: new MapSecrets({}), now: Date.now, output: new CapturedOutput() },
        );
        expect(result.status, `${stage.name}: ${result.reason}`).toBe('succeeded');
      } finally {
        await rm(workRoot, { recursive: true, force: true });
      }
      perStage.push(commands.length);
    }
    return perStage;
  }

  it(`a chain of ${CHAIN} stages without artifacts: the same requests for every stage (GET source; PUT log, manifest, result)`, async () => {
    // Act
    const perStage = await requestsPerStage('chain-plain', chainPlan([]));
    // Assess
    expect(new Set(perStage)).toEqual(new Set([4]));
    expect(perStage.reduce((a, b) => a + b, 0)).toBe(4 * CHAIN);
  });

  it('a chain whose first stage stores artifacts: every later stage adds one manifest and one archive GET, still constant', async () => {
    // Act
    const perStage = await requestsPerStage('chain-first', chainPlan(['s1']));
    // Assess: s1 also PUTs its archive; each later stage GETs s1's manifest and archive.
    expect(perStage[0]).toBe(5);
    expect(new Set(perStage.slice(1))).toEqual(new Set([6]));
  });

  it('scheduling (Select stages per batch, the waits and releases) costs the same per stage in a chain of 20 or 40', () => {
    // Prepare: the batches the state machine runs (at most 10 stages each, the default concurrency)
    const perStage = (plan: Plan) => {
      const batches = computeBatches(plan.waves, plan.stages, 10);
      const flags = new Map(batches.flatMap((batch) => batch.stages.map((s) => [s.name, s] as const)));
      const stages = plan.stages.map((s) => ({ name: s.name, needs: s.needs, artifactsFrom: [], waits: flags.get(s.name)?.waits ?? false, releases: flags.get(s.name)?.releases ?? false, skippedBySelection: false }));
      const count = schedulingRequests({ planned: true, batches: batches.map((b) => b.stages.map((s) => s.name)), skippedByIf: 0, stages });
      return (count.get + count.put) / plan.stages.length;
    };
    // Act
    const twenty = perStage(chainPlan([]));
    const forty = perStage(chainPlan([], 2 * CHAIN));
    // Assess: linear, not quadratic (reading every earlier result would double the per-stage figure)
    expect(forty).toBeLessThan(twenty * 1.2);
  });
});
