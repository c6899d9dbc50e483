/**
 * Linear cost, plan side: each stage's runner reads its own slice of the plan, a read that does
 * not grow with the pipeline, instead of the whole plan (4.7 MB for 1,000 stages).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { StageSliceInvalid } from '../../functions/domain/plan/stage-slice.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { stagePlanKey } from '../../functions/domain/storage-keys.js';
import { planTask } from '../../functions/handlers/plan.js';
import { PlanMissing, StageNotInPlan } from '../../functions/runner/errors.js';
import { readPlannedStage, readStageSlice } from '../../functions/runner/planned-stage.js';
import { REQUEST, tarball } from '../statemachine/support/farm.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';

/** `count` stages, 50 a wave, each stage needing every stage of the wave before (wide upstream lists). */
function widePipeline(count: number): string {
  const lines = ['version: 1', 'on:', '  push: {}', 'stages:'];
  for (let i = 0; i < count; i += 1) {
    const wave = Math.floor(i / 50);
    lines.push(`  stage-${i}:`, `    commands: [npm ci, npm test -- --project package-${i}]`);
    if (wave > 0) lines.push(`    needs: [${Array.from({ length: 50 }, (_, j) => `stage-${(wave - 1) * 50 + j}`).join(', ')}]`);
  }
  return lines.join('\n') + '\n';
}

function depsFor(store: MemoryStore, pipeline: string) {
  return {
    store,
    source: { snapshot: () => tarball({ '.buildfarm.yml': pipeline }) },
    config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
    prices: DEFAULT_PRICE_BOOK,
  };
}

/** Counts the bytes each read returns. */
class CountingStore extends MemoryStore {
  bytesRead = 0;
  override async getText(key: string): Promise<string | undefined> {
    const text = await super.getText(key);
    this.bytesRead += text === undefined ? 0 : Buffer.byteLength(text);
    return text;
  }
}

describe('Plan slices: one planned stage per object', () => {
  it('writes every stage of a build that runs as its own slice, equal to the plan\'s stage', async () => {
    // Prepare
    const store = new MemoryStore();

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, depsFor(store, widePipeline(120)));

    // Assess
    const plan = store.json<Plan>(output.planKey)!;
    expect(output.planKey).toBe('builds/b/plan.json');
    for (const stage of plan.stages) {
      expect(store.json(stagePlanKey(output.planKey, stage.name))).toEqual({ version: 1, stage, dependents: expect.any(Array) });
    }
    expect(stagePlanKey(output.planKey, 'stage-7')).toBe('builds/b/plan/stages/stage-7.json');
  });

  it('writes no slice for a build that is refused', async () => {
    const store = new MemoryStore();
    const deps = { ...depsFor(store, widePipeline(2)), policy: { forks: 'no-secrets' as const, maxBuildCostUsd: 0.000001, maxForkBuildCostUsd: 0.000001 } };
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);
    expect(output.refused).toBe(true);
    expect([...store.objects.keys()].filter((key) => key.includes('/plan/stages/'))).toEqual([]);
  });

  it('makes a stage\'s read of its plan constant: 1,000 stages read less than 1/100 of the plan each', async () => {
    // Prepare
    const store = new CountingStore();
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, depsFor(store, widePipeline(1000)));
    const planBytes = store.objects.get(output.planKey)!.length;
    store.bytesRead = 0;

    // Act: every stage reads its planned stage, as its runner does
    for (let i = 0; i < 1000; i += 1) await readPlannedStage(store, output.planKey, `stage-${i}`);

    // Assess: the whole plan would be 1,000 x planBytes
    const perStage = store.bytesRead / 1000;
    expect(planBytes).toBeGreaterThan(1_000_000);
    expect(perStage).toBeLessThan(planBytes / 100);
    console.log(`plan of 1,000 stages: ${planBytes} bytes; a stage reads ${Math.round(perStage)} bytes on average (was ${planBytes})`);
  });

  it('reads the whole plan when a build has no slices (planned before slices existed)', async () => {
    const store = new MemoryStore();
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, depsFor(store, widePipeline(60)));
    for (const key of [...store.objects.keys()]) if (key.includes('/plan/stages/')) store.objects.delete(key);
    const stage = await readPlannedStage(store, output.planKey, 'stage-55');
    expect(stage.needs).toHaveLength(50);
  });

  it('gives a stage with a cache the build\'s cache scope through its slice (without it, no runner restores or saves)', async () => {
    // Prepare
    const store = new MemoryStore();
    const pipeline = 'version: 1\nstages:\n  install:\n    commands: [npm ci]\n    cache: { paths: [~/.npm], key: { files: [package-lock.json], prefix: npm } }\n  test:\n    needs: [install]\n    commands: [npm test]\n';
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, depsFor(store, pipeline));
    const plan = store.json<Plan>(output.planKey)!;

    // Act
    const cached = await readStageSlice(store, output.planKey, 'install');
    const uncached = await readStageSlice(store, output.planKey, 'test');

    // Assess
    expect(plan.cacheScope).toEqual({ repository: REQUEST.repository, read: [REQUEST.branch], write: REQUEST.branch });
    expect(cached.cacheScope).toEqual(plan.cacheScope);
    expect(uncached.cacheScope).toBeUndefined();
  });

  it('names the key when the plan, the stage or the slice is wrong', async () => {
    const store = new MemoryStore();
    await expect(readPlannedStage(store, 'builds/x/plan.json', 'a')).rejects.toThrow(new PlanMissing('no plan at builds/x/plan.json'));
    await store.put('builds/x/plan.json', JSON.stringify({ stages: [] }));
    await expect(readPlannedStage(store, 'builds/x/plan.json', 'a')).rejects.toThrow(new StageNotInPlan('stage "a" is not in builds/x/plan.json'));
    await store.put('builds/x/plan/stages/a.json', JSON.stringify({ version: 1, stage: { name: 'b' } }));
    const wrong = readPlannedStage(store, 'builds/x/plan.json', 'a');
    await expect(wrong).rejects.toThrow(StageSliceInvalid);
    await expect(readPlannedStage(store, 'builds/x/plan.json', 'a')).rejects.toThrow('builds/x/plan/stages/a.json holds stage "b", not "a"');
    await store.put('builds/x/plan/stages/a.json', JSON.stringify({ version: 1, stage: { name: 'a' }, cacheScope: { repository: 'o/r', read: 'main' } }));
    await expect(readPlannedStage(store, 'builds/x/plan.json', 'a')).rejects.toThrow('builds/x/plan/stages/a.json holds a cacheScope that is not one the Plan step writes');
    await store.put('builds/x/plan/stages/a.json', '{');
    await expect(readPlannedStage(store, 'builds/x/plan.json', 'a')).rejects.toThrow(/builds\/x\/plan\/stages\/a\.json is not JSON/);
  });
});
