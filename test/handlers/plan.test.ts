import { describe, expect, it } from 'vitest';
import { PipelineInvalid } from '../../functions/domain/errors.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { historyKey } from '../../functions/domain/storage-keys.js';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { historyIdOf } from '../../functions/domain/plan/stage-definition.js';
import { formatUsd } from '../../functions/domain/report/format.js';
import type { LambdaSize, Plan, PlannedStage } from '../../functions/domain/plan/types.js';
import { parseConcurrency, planTask } from '../../functions/handlers/plan.js';
import { toSlimStage } from '../../functions/handlers/schedule.js';
import { readFileFromSnapshot, SnapshotFileTooLarge } from '../../functions/handlers/snapshot-file.js';
import { REQUEST, tarball } from '../statemachine/support/farm.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';
import type { CommitStatus, CommitStatusPort } from '../../functions/ports/commit-status.js';
import type { RunningBuilds } from '../../functions/ports/running-builds.js';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import type { RunningBuild } from '../../functions/domain/webhook/execution-input.js';

const EXECUTION_ARN = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';
const CONSOLE_URL = `https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/${EXECUTION_ARN}`;

class RecordingStatuses implements CommitStatusPort {
  readonly posted: { repository: string; sha: string; status: CommitStatus }[] = [];
  failWith: Error | undefined;
  async post(repository: string, sha: string, status: CommitStatus): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.posted.push({ repository, sha, status });
  }
}

/** Plans a two-stage pipeline (or one whose triggers do not match), posting statuses to `statuses`. */
function pendingSetup(pipeline = 'version: 1\non:\n  push: {}\nstages:\n  build:\n    commands: [make]\n  test:\n    needs: [build]\n    commands: [make test]\n') {
  const statuses = new RecordingStatuses();
  const warnings: unknown[][] = [];
  const deps = {
    store: new MemoryStore(),
    source: { snapshot: () => tarball({ '.buildfarm.yml': pipeline }) },
    config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
    prices: DEFAULT_PRICE_BOOK,
    statuses,
    logger: { warn: (...args: unknown[]) => void warnings.push(args) },
  };
  return { statuses, warnings, deps };
}

/** Step Functions' limit on a state's input or output. */
const MAX_STATE_PAYLOAD_BYTES = 256 * 1024;

function bigPlan(stageCount: number): Plan {
  const stages: PlannedStage[] = Array.from({ length: stageCount }, (_, i) => ({
    name: `stage-with-a-longish-name-${i}`,
    wave: Math.floor(i / 50),
    runner: i % 2 === 0 ? 'lambda' : 'fargate',
    reason: 'x'.repeat(200),
    timeoutSeconds: 600,
    needs: [],
    upstream: [],
    commands: Array.from({ length: 20 }, () => 'npm run something --with --many --flags'),
    env: { A: 'b'.repeat(100) },
    secrets: {},
    artifacts: ['dist/**'],
    image: i % 2 === 0 ? undefined : 'public.ecr.aws/docker/library/node:22-bookworm',
    runAsRoot: false,
    lambda: i % 2 === 0 ? { memoryMB: 2048, ephemeralStorageMB: 512, architecture: 'x86_64' } : undefined,
    fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    predictedDurationSeconds: 60,
    predictedFrom: 'timeout',
    predictedCostUsd: 0.001,
  }));
  const waves = Array.from({ length: stageCount / 50 }, (_, w) => stages.filter((s) => s.wave === w).map((s) => s.name));
  return { version: 1, waves, stages, skipped: [], failFast: false, cancelSuperseded: false, region: 'us-east-1', predictedCostUsd: 1, secretsWithheld: false };
}

/** A real pipeline file: `count` stages, 50 a wave, each wave needing a stage of the one before. */
function bigPipelineFile(count: number): string {
  const lines = ['version: 1', 'on:', '  push: {}', 'stages:'];
  for (let i = 0; i < count; i += 1) {
    const wave = Math.floor(i / 50);
    lines.push(`  stage-with-a-longish-name-${i}:`, `    commands: [npm ci, npm run build -- --project package-${i}, npm test -- --project package-${i}]`);
    if (wave > 0) lines.push(`    needs: [stage-with-a-longish-name-${(wave - 1) * 50}]`);
  }
  return lines.join('\n') + '\n';
}

describe('Function: planTask', () => {
  it('returns batch sizes only, so 1,000 stages plan into a payload of about a kilobyte', async () => {
    // Prepare
    const store = new MemoryStore();
    const deps = {
      store,
      source: { snapshot: () => tarball({ '.buildfarm.yml': bigPipelineFile(1000) }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
    };

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    const plan = store.json<Plan>(output.planKey)!;
    expect(plan.stages).toHaveLength(1000);
    expect(Buffer.byteLength(JSON.stringify(plan))).toBeGreaterThan(MAX_STATE_PAYLOAD_BYTES);
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(1024);
    expect(output.batches).toHaveLength(20);
    expect(output.batches[3]).toEqual({ index: 3, stageCount: 50 });
    expect(output).toMatchObject({ build: true, failFast: false, maxStageConcurrency: 4 });
    expect(store.objects.has('builds/b/source.tar.gz')).toBe(true);
  });

  it('throws PipelineInvalid with the location when the pipeline file is wrong', async () => {
    // Prepare
    const deps = {
      store: new MemoryStore(),
      source: { snapshot: () => tarball({ '.buildfarm.yml': 'version: 1\nstages:\n  a:\n    needs: [b]\n    commands: [x]\n' }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
    };

    // Act
    const planning = planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    await expect(planning).rejects.toThrow(PipelineInvalid);
    await expect(planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps)).rejects.toThrow(/\.buildfarm\.yml:\d+:\d+/);
  });

  it('throws PipelineInvalid when the repository has no pipeline file', async () => {
    const deps = {
      store: new MemoryStore(),
      source: { snapshot: () => tarball({ 'README.md': '# x\n' }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
    };
    await expect(planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps)).rejects.toThrow('no .buildfarm.yml at the root of the repository');
  });
  it('plans with the stage history the report recorded, and ignores a history object that is not one', async () => {
    // Prepare: a stage that ran 20 minutes last time, and a corrupt history object for the other
    const store = new MemoryStore();
    const pipeline = 'version: 1\non:\n  push: {}\nstages:\n  slow:\n    commands: [make slow]\n  quick:\n    commands: [make quick]\n';
    const id = (name: string) => historyIdOf(parsePipeline(pipeline).stages.find((s) => s.name === name)!);
    await store.put(historyKey(REQUEST.repository, id('slow')), JSON.stringify({ durationsMs: [1_200_000], peakMemoryMiB: 900, peakDiskMiB: 100, escalated: false }));
    await store.put(historyKey(REQUEST.repository, id('quick')), '{"durationsMs": "not a list"');
    const deps = {
      store,
      source: { snapshot: () => tarball({ '.buildfarm.yml': pipeline }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
    };

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    const plan = store.json<Plan>(output.planKey)!;
    const stage = (name: string) => plan.stages.find((s) => s.name === name)!;
    expect(stage('slow')).toMatchObject({ predictedFrom: 'history', runner: 'fargate' });
    expect(stage('quick')).toMatchObject({ predictedFrom: 'timeout', runner: 'lambda' });
  });
});

describe('Function: planTask (pending commit status)', () => {
  it('marks the commit pending, with the predicted cost, linking to the execution in the console', async () => {
    // Prepare
    const { statuses, deps } = pendingSetup();

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    const plan = deps.store.json<Plan>(output.planKey)!;
    expect(statuses.posted).toEqual([
      {
        repository: REQUEST.repository,
        sha: REQUEST.sha,
        status: { context: 'buildfarm', state: 'pending', description: `building 2 stages · predicted ${formatUsd(plan.predictedCostUsd)}`, targetUrl: CONSOLE_URL },
      },
    ]);
  });

  it('posts nothing for a push the triggers do not build', async () => {
    // Prepare
    const { statuses, deps } = pendingSetup('version: 1\non:\n  push:\n    branches: [release]\nstages:\n  build:\n    commands: [make]\n');

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    expect(output.build).toBe(false);
    expect(statuses.posted).toEqual([]);
  });

  it('plans the build anyway when GitHub refuses the status, and logs why', async () => {
    // Prepare
    const { statuses, warnings, deps } = pendingSetup();
    statuses.failWith = Object.assign(new Error('HTTP 401: Bad credentials'), { name: 'CommitStatusFailed' });

    // Act
    const output = await planTask({ buildId: 'b', request: REQUEST, maxStageConcurrency: '4', executionArn: EXECUTION_ARN }, deps);

    // Assess
    expect(output.build).toBe(true);
    expect(warnings).toEqual([['pending commit status not posted', { buildId: 'b', error: 'CommitStatusFailed: HTTP 401: Bad credentials' }]]);
  });
});

describe('Function: toSlimStage', () => {
  it('keeps a wave of 500 stages below the 256 KiB state payload limit', () => {
    // Act
    const slim = bigPlan(500).stages.map((stage) => toSlimStage(stage, 'arn:aws:lambda:us-east-1:123456789012:function:buildfarm-runner'));

    // Assess
    expect(Buffer.byteLength(JSON.stringify(slim))).toBeLessThan(MAX_STATE_PAYLOAD_BYTES);
    expect(slim[1]).toEqual({
      name: 'stage-with-a-longish-name-1',
      runner: 'fargate',
      fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
    });
  });

  it('routes a Lambda stage to the runner function of its memory tier when one is configured', () => {
    const stage = bigPlan(50).stages[0]!;
    expect(toSlimStage(stage, 'default-runner', (size: LambdaSize) => `runner-${size.memoryMB}`).lambdaFunction).toBe('runner-2048');
    expect(toSlimStage(stage, 'default-runner').lambdaFunction).toBe('default-runner');
  });
});

describe('Function: parseConcurrency', () => {
  it('reads a positive integer and never lets a bad value mean unbounded (0)', () => {
    expect(parseConcurrency('8')).toBe(8);
    expect(parseConcurrency('0')).toBe(1);
    expect(parseConcurrency('${MaxStageConcurrency}')).toBe(1);
  });
});

describe('Function: readFileFromSnapshot', () => {
  it('finds the pipeline file under the tarball top-level directory', async () => {
    const snapshot = await tarball({ 'src/.buildfarm.yml': 'nested: true\n', '.buildfarm.yml': 'stages: {}\n' });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).resolves.toBe('stages: {}\n');
  });

  it('returns undefined when the file is absent', async () => {
    const snapshot = await tarball({ 'README.md': '# x\n' });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).resolves.toBeUndefined();
  });

  it('refuses a pipeline file above the size limit', async () => {
    const snapshot = await tarball({ '.buildfarm.yml': 'x'.repeat(2048) });
    await expect(readFileFromSnapshot(snapshot, '.buildfarm.yml', 1024)).rejects.toThrow(SnapshotFileTooLarge);
  });
});

describe('Function: planTask, with cancel-superseded', () => {
  const SUPERSEDING = 'version: 1\ncancel-superseded: true\nstages:\n  build:\n    commands: [make]\n';
  const MACHINE = 'arn:aws:states:us-east-1:123456789012:execution:BuildFarm';

  /** Every build in flight, whatever its branch: the filtering is planTask's to do. */
  class FakeRunningBuilds implements RunningBuilds {
    readonly lookups: [string, string][] = [];
    readonly stopped: [string, string][] = [];
    constructor(private readonly builds: RunningBuild[]) {}
    async findRunning(repository: string, branch: string): Promise<RunningBuild[]> {
      this.lookups.push([repository, branch]);
      return this.builds;
    }
    async stop(executionArn: string, reason: string): Promise<void> {
      this.stopped.push([executionArn, reason]);
    }
  }

  function inFlight(name: string, overrides: Partial<BuildRequest>): RunningBuild {
    return { executionArn: `${MACHINE}:${name}`, input: { buildId: name, request: { ...REQUEST, deliveryId: `d-${name}`, ...overrides } } };
  }

  function depsFor(pipeline: string, running: RunningBuilds) {
    return {
      store: new MemoryStore(),
      source: { snapshot: () => tarball({ '.buildfarm.yml': pipeline }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
      running,
    };
  }

  const current = { buildId: 'current', request: { ...REQUEST, deliveryId: 'd-current', receivedAt: '2026-11-22T10:05:00.000Z' }, maxStageConcurrency: '4', executionArn: `${MACHINE}:current` };

  it('stops the older running builds of the same branch only, never itself or a newer one', async () => {
    // Prepare
    const running = new FakeRunningBuilds([
      inFlight('older', { receivedAt: '2026-11-22T10:01:00.000Z' }),
      inFlight('current', { deliveryId: 'd-current', receivedAt: '2026-11-22T10:05:00.000Z' }),
      inFlight('newer', { receivedAt: '2026-11-22T10:06:00.000Z' }),
      inFlight('other-branch', { branch: 'dev', ref: 'refs/heads/dev', receivedAt: '2026-11-22T10:01:00.000Z' }),
      inFlight('other-repository', { repository: 'octo/web', receivedAt: '2026-11-22T10:01:00.000Z' }),
    ]);

    // Act
    const output = await planTask(current, depsFor(SUPERSEDING, running));

    // Assess
    expect(output.build).toBe(true);
    expect(running.lookups).toEqual([['octo/app', 'main']]);
    expect(running.stopped).toEqual([[`${MACHINE}:older`, 'superseded by current']]);
  });

  it('stops nothing when the pipeline file does not opt in', async () => {
    // Prepare
    const running = new FakeRunningBuilds([inFlight('older', { receivedAt: '2026-11-22T10:01:00.000Z' })]);

    // Act
    await planTask(current, depsFor('version: 1\nstages:\n  build:\n    commands: [make]\n', running));

    // Assess
    expect(running.lookups).toEqual([]);
    expect(running.stopped).toEqual([]);
  });

  it('stops nothing when the build does not run (its triggers do not match)', async () => {
    // Prepare
    const running = new FakeRunningBuilds([inFlight('older', { receivedAt: '2026-11-22T10:01:00.000Z' })]);
    const pipeline = 'version: 1\ncancel-superseded: true\non:\n  push:\n    branches: [release]\nstages:\n  build:\n    commands: [make]\n';

    // Act
    const output = await planTask(current, depsFor(pipeline, running));

    // Assess
    expect(output.build).toBe(false);
    expect(running.stopped).toEqual([]);
  });

  it('stops an older build of the same pull request, not of another pull request from the same branch', async () => {
    // Prepare
    const pr = { event: 'pull_request' as const, baseBranch: 'main', branch: 'feature', ref: 'refs/pull/7/merge' };
    const running = new FakeRunningBuilds([
      inFlight('same-pr', { ...pr, pullRequest: 7, receivedAt: '2026-11-22T10:01:00.000Z' }),
      inFlight('other-pr', { ...pr, pullRequest: 8, receivedAt: '2026-11-22T10:01:00.000Z' }),
      inFlight('push-of-the-branch', { branch: 'feature', ref: 'refs/heads/feature', receivedAt: '2026-11-22T10:01:00.000Z' }),
    ]);
    const input = { ...current, request: { ...current.request, ...pr, pullRequest: 7 } };

    // Act
    await planTask(input, depsFor(SUPERSEDING, running));

    // Assess
    expect(running.lookups).toEqual([['octo/app', 'feature']]);
    expect(running.stopped.map(([arn]) => arn)).toEqual([`${MACHINE}:same-pr`]);
  });

  it('logs a build it cannot stop and plans anyway', async () => {
    // Prepare
    const running = new FakeRunningBuilds([inFlight('older', { receivedAt: '2026-11-22T10:01:00.000Z' })]);
    running.stop = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    };
    const warnings: unknown[][] = [];

    // Act
    const output = await planTask(current, { ...depsFor(SUPERSEDING, running), logger: { warn: (...args: unknown[]) => void warnings.push(args) } });

    // Assess
    expect(output.build).toBe(true);
    expect(warnings).toEqual([['superseded build not stopped', expect.objectContaining({ executionArn: `${MACHINE}:older`, error: 'ThrottlingException: Rate exceeded' })]]);
  });
});
