/**
 * The Plan task applies the farm's policy (handlers/plan.ts): a refused build starts nothing,
 * posts no pending status and returns the fields the state machine's Report needs.
 */
import { describe, expect, it } from 'vitest';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import type { FarmPolicy } from '../../functions/domain/plan/farm-policy.js';
import type { Plan } from '../../functions/domain/plan/types.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { farmPolicyFromEnvironment } from '../../functions/handlers/farm-policy-environment.js';
import { planTask, type PlanTaskDeps } from '../../functions/handlers/plan.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import type { RunningBuilds } from '../../functions/ports/running-builds.js';
import { REQUEST, tarball } from '../statemachine/support/farm.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';
const FORK_PR: BuildRequest = { ...REQUEST, event: 'pull_request', fromFork: true, pullRequest: 7, baseBranch: 'main', branch: 'feature', ref: 'refs/pull/7/head' };
/** One 8 vCPU 16 GB stage of three hours: predicted about $1.18 on Fargate (from its timeout). */
const BIG = 'version: 1\non:\n  push: {}\n  pull_request: {}\ncancel-superseded: true\nstages:\n  big:\n    commands: [make]\n    timeout: 3h\n    resources: {cpu: 8, memory: 16GB}\n';

class RecordingStatuses implements CommitStatusPort {
  readonly posted: CommitStatus[] = [];
  async post(_repository: string, _sha: string, status: CommitStatus): Promise<void> {
    this.posted.push(status);
  }
}

function setup(policy: FarmPolicy | undefined, pipeline = BIG) {
  const store = new MemoryStore();
  const statuses = new RecordingStatuses();
  const snapshots: string[] = [];
  const searched: string[] = [];
  const running: RunningBuilds = {
    async findRunning(repository) {
      searched.push(repository);
      return [];
    },
    async stop() {},
  };
  const deps: PlanTaskDeps = {
    store,
    statuses,
    running,
    source: {
      snapshot: (ref) => {
        snapshots.push(ref.sha);
        return tarball({ '.buildfarm.yml': pipeline });
      },
    },
    config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
    prices: DEFAULT_PRICE_BOOK,
    ...(policy ? { policy } : {}),
  };
  return { store, statuses, snapshots, searched, deps };
}

const plan = (request: BuildRequest, deps: PlanTaskDeps) => planTask({ buildId: 'b', request, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

describe('Function: planTask (fork policy)', () => {
  it('refuses a fork pull request under forks: off before fetching its source', async () => {
    // Prepare
    const { store, statuses, snapshots, deps } = setup({ forks: 'off' });

    // Act
    const output = await plan(FORK_PR, deps);

    // Assess
    expect(output).toEqual({
      planKey: 'builds/b/plan.json',
      build: false,
      refused: true,
      secretsWithheld: true,
      predictedCostUsd: 0,
      reason: 'pull requests from forks are not built on this farm (forks: off; BUILDFARM_FORKS / ForkPolicy)',
      failFast: false,
      maxStageConcurrency: 4,
      batches: [],
    });
    expect(snapshots).toEqual([]);
    expect(store.objects.size).toBe(0);
    expect(statuses.posted).toEqual([]);
  });

  it('plans a fork under the default policy with its secrets withheld, in the plan and the output', async () => {
    // Prepare: a cheap pipeline, under the default fork limit
    const { store, deps } = setup(undefined, 'version: 1\non:\n  pull_request: {}\nstages:\n  unit:\n    commands: [make test]\n');

    // Act
    const output = await plan(FORK_PR, deps);

    // Assess
    expect(output).toMatchObject({ build: true, refused: false, secretsWithheld: true });
    expect(store.json<Plan>(output.planKey)!.secretsWithheld).toBe(true);
  });

  it('gives a fork its secrets only under forks: build', async () => {
    // Prepare
    const { store, deps } = setup({ forks: 'build' });

    // Act
    const output = await plan(FORK_PR, deps);

    // Assess
    expect(output).toMatchObject({ build: true, secretsWithheld: false });
    expect(store.json<Plan>(output.planKey)!.secretsWithheld).toBe(false);
  });
});

describe('Function: planTask (cost limits)', () => {
  it('refuses a fork predicted over the default fork limit: plan kept, no pending status, nothing superseded', async () => {
    // Prepare
    const { store, statuses, searched, deps } = setup(undefined);

    // Act
    const output = await plan(FORK_PR, deps);

    // Assess
    const stored = store.json<Plan>(output.planKey)!;
    expect(stored.predictedCostUsd).toBeGreaterThan(0.5);
    expect(output).toMatchObject({ build: false, refused: true, batches: [], predictedCostUsd: stored.predictedCostUsd });
    expect(output.reason).toMatch(/^predicted \$1\.\d{2} exceeds the fork build limit \$0\.50 \(BUILDFARM_MAX_FORK_BUILD_COST_USD \/ MaxForkBuildCostUsd\)$/);
    expect(statuses.posted).toEqual([]);
    expect(searched).toEqual([]);
  });

  it('refuses a push predicted over the build limit, and runs it without one', async () => {
    // Prepare
    const limited = setup({ forks: 'no-secrets', maxBuildCostUsd: 0.1 });
    const unlimited = setup({ forks: 'no-secrets' });

    // Act
    const refused = await plan(REQUEST, limited.deps);
    const built = await plan(REQUEST, unlimited.deps);

    // Assess
    expect(refused).toMatchObject({ build: false, refused: true, secretsWithheld: false });
    expect(refused.reason).toContain('exceeds the build limit $0.10 (BUILDFARM_MAX_BUILD_COST_USD / MaxBuildCostUsd)');
    expect(built).toMatchObject({ build: true, refused: false, batches: [{ index: 0, stageCount: 1 }] });
    expect(unlimited.statuses.posted.map((s) => s.state)).toEqual(['pending']);
  });

  it('a build the triggers do not want is not triggered, not refused, even over a limit', async () => {
    // Prepare
    const { deps } = setup({ forks: 'no-secrets', maxBuildCostUsd: 0 }, 'version: 1\non:\n  push: {branches: [release]}\nstages:\n  a:\n    commands: [x]\n');

    // Act
    const output = await plan(REQUEST, deps);

    // Assess
    expect(output).toMatchObject({ build: false, refused: false });
  });
});

describe('Function: farmPolicyFromEnvironment', () => {
  it('reads the variables template.yaml sets from the parameters', () => {
    expect(farmPolicyFromEnvironment({ BUILDFARM_FORKS: 'off', BUILDFARM_MAX_BUILD_COST_USD: '', BUILDFARM_MAX_FORK_BUILD_COST_USD: '0.50' })).toEqual({
      forks: 'off',
      maxForkBuildCostUsd: 0.5,
    });
  });

  it('falls back to the defaults when the variables are absent', () => {
    expect(farmPolicyFromEnvironment({})).toEqual({ forks: 'no-secrets', maxForkBuildCostUsd: 0.5 });
  });

  it('names the variable and the parameter of a bad value', () => {
    expect(() => farmPolicyFromEnvironment({ BUILDFARM_MAX_BUILD_COST_USD: 'ten' })).toThrow(
      'BUILDFARM_MAX_BUILD_COST_USD (template parameter MaxBuildCostUsd): "ten" is not an amount in US dollars',
    );
  });
});

describe('Function: planTask (cache scope)', () => {
  const CACHED = 'version: 1\non:\n  push: {}\n  pull_request: {}\nstages:\n  install:\n    commands: [npm ci]\n    cache:\n      paths: [~/.npm]\n';

  it('stores the scope the request allows in the plan: a push writes its branch, a fork\'s pull request reads its base and writes nothing', async () => {
    const push = setup(undefined, CACHED);
    await plan(REQUEST, push.deps);
    expect(JSON.parse((await push.store.getText('builds/b/plan.json'))!).cacheScope).toEqual({ repository: REQUEST.repository, read: [REQUEST.branch], write: REQUEST.branch });

    const fork = setup(undefined, CACHED);
    await plan(FORK_PR, fork.deps);
    expect(JSON.parse((await fork.store.getText('builds/b/plan.json'))!).cacheScope).toEqual({ repository: REQUEST.repository, read: ['main'] });
  });
});
