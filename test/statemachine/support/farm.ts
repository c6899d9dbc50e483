/**
 * A small farm for the state machine scenarios: the real plan (parser, planner, triggers),
 * schedule and report task code over an in-memory store, and scripted Lambda and Fargate runners
 * that write records the way the stage agent and the publish container do.
 */
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-stream';
import type { BuildRequest } from '../../../functions/domain/build-request.js';
import type { FarmPolicy } from '../../../functions/domain/plan/farm-policy.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import type { RegionPrices } from '../../../functions/domain/pricing/price-book.js';
import { manifestKey, stageLogKey, stageResultKey } from '../../../functions/domain/storage-keys.js';
import type { ArtifactEntry, StageResult } from '../../../functions/domain/report/types.js';
import { ENV } from '../../../functions/domain/fargate/layout.js';
import { CAPACITY_UNAVAILABLE, RUN_TASK_FAILURES, runTaskFailuresCause, SPOT_INTERRUPTION } from '../../../functions/domain/fargate/run-task-errors.js';
import { fargateStateTimeoutSeconds } from '../../../functions/domain/fargate/task-timeout.js';
import type { Plan } from '../../../functions/domain/plan/types.js';
import type { EcsTask } from '../../../functions/handlers/build-state-machine.js';
import type { FargatePrepareOutput } from '../../../functions/handlers/fargate-prepare.js';
import { planTask } from '../../../functions/handlers/plan.js';
import { reportTask } from '../../../functions/handlers/report.js';
import { scheduleTask } from '../../../functions/handlers/schedule.js';
import type { FargatePrepareEvent, LambdaRunnerEvent, LocalTaskBindings, RunTaskParameters } from '../../../functions/local/state-machine-runner.js';
import { MemoryNotifier, MemoryStore } from './memory-store.js';
import { US_EAST_1_PRICES } from '../../support/us-east-1-prices.js';

export const PRICES: RegionPrices = US_EAST_1_PRICES;

export const REQUEST: BuildRequest = {
  deliveryId: 'd-1',
  event: 'push',
  repository: 'octo/app',
  cloneUrl: 'https://github.com/octo/app.git',
  ref: 'refs/heads/main',
  branch: 'main',
  sha: 'abc123',
  fromFork: false,
  message: 'Add feature',
  sender: 'octo',
  receivedAt: '2026-11-22T10:00:00.000Z',
};

export const BUILD_ID = 'build-1';
const NOW = new Date('2026-11-22T10:05:00.000Z');
const TASK_START = Date.parse('2026-11-22T10:01:00.000Z');

export type LambdaBehaviour =
  | { kind: 'succeed'; durationMs: number; artifacts?: ArtifactEntry[] }
  | { kind: 'fail'; exitCode: number; durationMs: number }
  | { kind: 'throw'; name: string; message: string };

export type FargateBehaviour =
  | { kind: 'succeed'; billedSpanMs: number; durationMs: number }
  | { kind: 'taskFailed'; exitCode: number; spanMs: number; stoppedReason: string }
  /**
   * Capacity errors on `provider` for the first `times` calls (Infinity: always), under the name
   * the `.sync` integration gives them (`AmazonECS.Unknown` for RunTask `Failures` by default).
   */
  | { kind: 'noCapacity'; provider: 'FARGATE' | 'FARGATE_SPOT'; times: number; then: FargateBehaviour; errorName?: string }
  /** Fargate Spot takes the capacity back: the task stops with StopCode SpotInterruption, as `States.TaskFailed`. */
  | { kind: 'spotInterrupted'; spanMs: number; then: FargateBehaviour };

export interface ScenarioStage {
  /** `auto` leaves the choice to the planner. */
  runner: 'lambda' | 'fargate' | 'auto';
  needs?: string[];
  spot?: boolean;
  lambda?: LambdaBehaviour;
  fargate?: FargateBehaviour;
}

/** A real pipeline file for the scenario's stages. */
export function pipelineYaml(stages: Record<string, ScenarioStage>, failFast = false): string {
  const lines = ['version: 1', 'on:', '  push: {}', '  pull_request: {}', `fail-fast: ${failFast}`, 'stages:'];
  for (const [name, s] of Object.entries(stages)) {
    lines.push(`  ${name}:`, `    commands: [make ${name}]`);
    if (s.runner !== 'auto') lines.push(`    runner: ${s.runner}`);
    if (s.needs) lines.push(`    needs: [${s.needs.join(', ')}]`);
    if (s.spot) lines.push('    spot: true');
  }
  return lines.join('\n') + '\n';
}

/** A real gzipped tarball, laid out like GitHub's (one top-level directory). */
export async function tarball(files: Record<string, string>): Promise<Readable> {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name: `octo-app-abc123/${name}` }, content);
  archive.finalize();
  return archive.pipe(createGzip());
}

export class NamedError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

export interface Farm {
  store: MemoryStore;
  notifier: MemoryNotifier;
  bindings: LocalTaskBindings;
  lambdaCalls: string[];
  lambdaEvents: LambdaRunnerEvent[];
  /** `stage@capacityProvider` per RunTask call. */
  fargateCalls: string[];
  prepareCalls: FargatePrepareEvent[];
  runTaskCalls: RunTaskParameters[];
}

export function createFarm(stages: Record<string, ScenarioStage>, options: { pipelineText?: string; failFast?: boolean; store?: MemoryStore; policy?: FarmPolicy } = {}): Farm {
  const store = options.store ?? new MemoryStore();
  const notifier = new MemoryNotifier();
  const lambdaCalls: string[] = [];
  const lambdaEvents: LambdaRunnerEvent[] = [];
  const fargateCalls: string[] = [];
  const prepareCalls: FargatePrepareEvent[] = [];
  const runTaskCalls: RunTaskParameters[] = [];
  const fargateAttempts = new Map<string, number>();
  const now = () => NOW;
  const text = options.pipelineText ?? pipelineYaml(stages, options.failFast);

  const writeResult = async (stage: string, fields: Partial<StageResult> & Pick<StageResult, 'status' | 'runner' | 'durationMs' | 'exitCode'>, artifacts: ArtifactEntry[] = []) => {
    const result: StageResult = {
      buildId: BUILD_ID,
      stage,
      reason: '',
      startedAt: '2026-11-22T10:01:00.000Z',
      finishedAt: '2026-11-22T10:02:00.000Z',
      peakMemoryMiB: 100,
      peakDiskMiB: 10,
      logKey: stageLogKey(BUILD_ID, stage),
      manifestKey: manifestKey(BUILD_ID, stage),
      artifactCount: artifacts.length,
      artifactBytes: artifacts.reduce((n, a) => n + a.size, 0),
      ...fields,
    };
    await store.put(stageLogKey(BUILD_ID, stage), `$ make\n`);
    await store.put(manifestKey(BUILD_ID, stage), JSON.stringify(artifacts));
    await store.put(stageResultKey(BUILD_ID, stage), JSON.stringify(result));
    return result;
  };

  const runFargate = async (stage: string, provider: string, behaviour: FargateBehaviour): Promise<EcsTask> => {
    if (behaviour.kind === 'noCapacity') {
      const attempts = (fargateAttempts.get(`${stage}@${provider}`) ?? 0) + 1;
      fargateAttempts.set(`${stage}@${provider}`, attempts);
      if (provider === behaviour.provider && attempts <= behaviour.times) {
        const name = behaviour.errorName ?? RUN_TASK_FAILURES;
        throw new NamedError(name, name === RUN_TASK_FAILURES ? runTaskFailuresCause(CAPACITY_UNAVAILABLE) : CAPACITY_UNAVAILABLE);
      }
      return runFargate(stage, provider, behaviour.then);
    }
    if (behaviour.kind === 'spotInterrupted') {
      if (provider !== 'FARGATE_SPOT') return runFargate(stage, provider, behaviour.then);
      const task: EcsTask = {
        TaskArn: `arn:aws:ecs:us-east-1:000000000000:task/local/${stage}-spot`,
        LastStatus: 'STOPPED',
        StopCode: SPOT_INTERRUPTION,
        StoppedReason: 'Your Spot Task was interrupted.',
        CapacityProviderName: provider,
        PullStartedAt: TASK_START,
        StartedAt: TASK_START + 5000,
        StoppedAt: TASK_START + behaviour.spanMs,
        Containers: [{ Name: 'fetch', ExitCode: 0 }, { Name: 'build', ExitCode: 143 }, { Name: 'publish' }],
      };
      throw new NamedError('States.TaskFailed', JSON.stringify(task));
    }
    const containers = (exit: number) => [
      { Name: 'fetch', ExitCode: 0 },
      { Name: 'build', ExitCode: exit },
      { Name: 'publish', ExitCode: exit === 0 ? 0 : 1 },
    ];
    if (behaviour.kind === 'taskFailed') {
      const task: EcsTask = {
        TaskArn: `arn:aws:ecs:us-east-1:000000000000:task/local/${stage}`,
        LastStatus: 'STOPPED',
        StopCode: 'EssentialContainerExited',
        StoppedReason: behaviour.stoppedReason,
        PullStartedAt: TASK_START,
        StartedAt: TASK_START + 5000,
        StoppedAt: TASK_START + behaviour.spanMs,
        Containers: containers(behaviour.exitCode),
      };
      throw new NamedError('States.TaskFailed', JSON.stringify(task));
    }
    await writeResult(stage, { status: 'succeeded', runner: 'fargate', durationMs: behaviour.durationMs, exitCode: 0 });
    return {
      TaskArn: `arn:aws:ecs:us-east-1:000000000000:task/local/${stage}`,
      LastStatus: 'STOPPED',
      StopCode: 'EssentialContainerExited',
      StoppedReason: 'Essential container in task exited',
      CapacityProviderName: provider,
      PullStartedAt: TASK_START,
      StartedAt: TASK_START + 5000,
      StoppedAt: TASK_START + behaviour.billedSpanMs,
      Containers: containers(0),
    };
  };

  const bindings: LocalTaskBindings = {
    plan: (input) =>
      planTask(input, {
        store,
        source: { snapshot: () => tarball({ '.buildfarm.yml': text, 'README.md': '# app\n' }) },
        config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
        prices: DEFAULT_PRICE_BOOK,
        policy: options.policy,
      }),
    schedule: (input, tokens) => scheduleTask(input, { store, now, tokens }),
    report: (input) => reportTask(input, { store, notifier, costs: pricedCostModel(PRICES), now, region: 'us-east-1' }),
    async runLambdaStage(event) {
      lambdaCalls.push(event.stageName);
      lambdaEvents.push(event);
      const behaviour = stages[event.stageName]?.lambda ?? { kind: 'succeed', durationMs: 1000 };
      if (behaviour.kind === 'throw') throw new NamedError(behaviour.name, behaviour.message);
      if (behaviour.kind === 'fail') {
        return writeResult(event.stageName, { status: 'failed', runner: 'lambda', durationMs: behaviour.durationMs, exitCode: behaviour.exitCode, errorName: 'CommandFailed', reason: `make exited with ${behaviour.exitCode}` });
      }
      return writeResult(event.stageName, { status: 'succeeded', runner: 'lambda', durationMs: behaviour.durationMs, exitCode: 0 }, behaviour.artifacts);
    },
    /** Like the real function: the size comes from the plan in S3, only keys come in. */
    async prepareFargate(event): Promise<FargatePrepareOutput> {
      prepareCalls.push(event);
      const stage = store.json<Plan>(event.planKey)!.stages.find((s) => s.name === event.stageName)!;
      return {
        s3Requests: { put: 0, get: 0 },
        taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/buildfarm-abc:1',
        capacityProvider: stage.fargate.spot ? 'FARGATE_SPOT' : 'FARGATE',
        overrides: {
          Cpu: String(stage.fargate.cpu),
          Memory: String(stage.fargate.memory),
          ContainerOverrides: [{ Name: 'fetch', Environment: [{ Name: ENV.stage, Value: event.stageName }] }],
        },
        family: 'buildfarm-abc',
        image: stage.image ?? 'public.ecr.aws/docker/library/node:22',
        timeoutSeconds: fargateStateTimeoutSeconds(stage.timeoutSeconds),
      };
    },
    async runFargateTask(parameters: RunTaskParameters) {
      // The stage's name travels in the containers' environment, as the Fargate helpers read it.
      const stage = parameters.Overrides.ContainerOverrides.flatMap((c) => c.Environment).find((e) => e.Name === ENV.stage)!.Value;
      const provider = parameters.CapacityProviderStrategy[0]!.CapacityProvider;
      fargateCalls.push(`${stage}@${provider}`);
      runTaskCalls.push(parameters);
      return runFargate(stage, provider, stages[stage]?.fargate ?? { kind: 'succeed', billedSpanMs: 70_000, durationMs: 60_000 });
    },
  };
  return { store, notifier, bindings, lambdaCalls, lambdaEvents, fargateCalls, prepareCalls, runTaskCalls };
}
