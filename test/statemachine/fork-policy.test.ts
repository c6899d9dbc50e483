/**
 * The farm's policy through the real build.asl.json (aws-local-stepfunctions): a refused build
 * takes the Plan → Run waves (no waves) → Report path, so no stage starts; and the runners are
 * told to withhold secrets from the plan's decision, not from the request alone.
 */
import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import type { FarmPolicy } from '../../functions/domain/plan/farm-policy.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { historyKey, planKey, reportKey } from '../../functions/domain/storage-keys.js';
import { runBuildLocally } from '../../functions/local/state-machine-runner.js';

/** The key the report recorded a stage's history under: `history/{repo}/{stage}/{definition hash}.json`. */
function recordedHistoryKey(objects: { keys(): Iterable<string> }, repository: string, stage: string): string {
  const prefix = historyKey(repository, stage).replace(/\.json$/, '/');
  return [...objects.keys()].find((key) => key.startsWith(prefix)) ?? `${prefix}(none)`;
}
import { BUILD_ID, createFarm, REQUEST, type ScenarioStage } from './support/farm.js';

const FORK_PR: BuildRequest = { ...REQUEST, event: 'pull_request', fromFork: true, pullRequest: 7, baseBranch: 'main', branch: 'feature', ref: 'refs/pull/7/head' };
const STAGES: Record<string, ScenarioStage> = { compile: { runner: 'lambda' }, image: { runner: 'fargate', needs: ['compile'] } };

async function build(policy: FarmPolicy, request = FORK_PR) {
  const farm = createFarm(STAGES, { policy });
  const result = await runBuildLocally({ buildId: BUILD_ID, request }, farm.bindings);
  const report = farm.store.json<BuildReport>(reportKey(BUILD_ID))!;
  return { farm, result, report };
}

describe('State machine: fork policy and cost limits', () => {
  it('forks: off refuses a fork pull request: no source fetched, no stage run, a refused report naming the setting', async () => {
    // Act
    const { farm, result, report } = await build({ forks: 'off' });

    // Assess
    expect(result.output.status).toBe('refused');
    expect(report).toMatchObject({ status: 'refused', stages: [], predictedCostUsd: 0 });
    expect(report.reason).toBe('pull requests from forks are not built on this farm (forks: off; BUILDFARM_FORKS / ForkPolicy)');
    expect(farm.lambdaCalls).toEqual([]);
    expect(farm.fargateCalls).toEqual([]);
    expect(farm.prepareCalls).toEqual([]);
    expect([...farm.store.objects.keys()].filter((key) => key.endsWith('source.tar.gz') || key.endsWith('plan.json'))).toEqual([]);
    expect(farm.notifier.messages[0]!.attributes).toMatchObject({ status: 'refused' });
  });

  it('a fork predicted over the fork limit is refused with the figures; the plan is kept, no stage runs', async () => {
    // Act
    const { farm, report } = await build({ forks: 'no-secrets', maxForkBuildCostUsd: 0.001 });

    // Assess
    const plan = farm.store.json<Plan>(planKey(BUILD_ID))!;
    expect(plan.predictedCostUsd).toBeGreaterThan(0.001);
    expect(report.status).toBe('refused');
    expect(report.predictedCostUsd).toBe(plan.predictedCostUsd);
    expect(report.reason).toMatch(/^predicted \$0\.\d{4} exceeds the fork build limit \$0\.0010 \(BUILDFARM_MAX_FORK_BUILD_COST_USD \/ MaxForkBuildCostUsd\)$/);
    expect(farm.lambdaCalls).toEqual([]);
    expect(farm.fargateCalls).toEqual([]);
  });

  it('the same limit does not touch a push to the repository itself', async () => {
    // Act
    const { farm, report } = await build({ forks: 'no-secrets', maxForkBuildCostUsd: 0.001 }, REQUEST);

    // Assess
    expect(report.status).toBe('succeeded');
    expect(farm.lambdaCalls).toEqual(['compile']);
  });

  it('forks: build tells every runner to give the fork its declared secrets (fromFork false), and the plan says so', async () => {
    // Act
    const { farm, report } = await build({ forks: 'build' });

    // Assess
    expect(report.status).toBe('succeeded');
    expect(farm.lambdaEvents.map((e) => e.fromFork)).toEqual([false]);
    expect(farm.prepareCalls.map((e) => e.fromFork)).toEqual([false]);
    expect(farm.store.json<Plan>(planKey(BUILD_ID))!.secretsWithheld).toBe(false);
  });

  it('forks: no-secrets tells every runner to withhold secrets, and the plan says so', async () => {
    // Act
    const { farm } = await build({ forks: 'no-secrets' });

    // Assess
    expect(farm.lambdaEvents.map((e) => e.fromFork)).toEqual([true]);
    expect(farm.prepareCalls.map((e) => e.fromFork)).toEqual([true]);
    expect(farm.store.json<Plan>(planKey(BUILD_ID))!.secretsWithheld).toBe(true);
  });

  it('a fork\'s runs are not added to the stage history, so a fork cannot make the next builds of main look costly', async () => {
    // Act
    const fork = await build({ forks: 'no-secrets' });
    const own = await build({ forks: 'no-secrets' }, REQUEST);

    // Assess
    expect(fork.report.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded']);
    expect(fork.farm.store.objects.has(recordedHistoryKey(fork.farm.store.objects, REQUEST.repository, 'compile'))).toBe(false);
    expect(own.farm.store.objects.has(recordedHistoryKey(own.farm.store.objects, REQUEST.repository, 'compile'))).toBe(true);
  });
});
