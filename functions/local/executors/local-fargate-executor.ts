/**
 * The local Fargate executor. `prepare` runs the real fargate-prepare code against a
 * local task definition registry and the embedded S3; `runTask` answers what
 * `ecs:runTask.sync` answers: the stopped task, with container exit codes and the
 * PullStartedAt/StoppedAt timestamps the report bills from.
 *
 * No container engine is reachable on a machine without a Docker daemon, so the three
 * phases (fetch the workspace, run the commands, publish artifacts and the result) run
 * through the stage agent on the host shell, with the task's memory and ephemeral
 * storage as limits; the farm says so in its output. On AWS the same phases run in the
 * fetch, build and publish containers of the task.
 */
import type { CountedStore } from '../../adapters/local/counted-store.js';
import { modelledPullMs } from '../../domain/fargate/pull-model.js';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { HelperBundleStore } from '../../adapters/aws/helper-bundle-store.js';
import { BUILD_CONTAINER, DEFAULT_STAGE_IMAGE, ENV, FETCH_CONTAINER, PUBLISH_CONTAINER } from '../../domain/fargate/layout.js';
import { CAPACITY_UNAVAILABLE, RUN_TASK_FAILURES, runTaskFailuresCause, SPOT_INTERRUPTION } from '../../domain/fargate/run-task-errors.js';
import type { TaskSettings } from '../../domain/fargate/task-definition.js';
import { readPlannedStage, readStageSlice } from '../../runner/planned-stage.js';
import type { StageResult } from '../../domain/report/types.js';
import { prepareFargateTask, type FargatePrepareInput, type FargatePrepareOutput } from '../../handlers/fargate-prepare.js';
import type { EcsTask } from '../../handlers/build-state-machine.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { SecretsProvider } from '../../ports/secrets.js';
import type { StageAccessSource } from '../../ports/stage-access.js';
import { localStageRuntimeEnv } from '../stage-environment.js';
import { runStage } from '../../runner/agent.js';
import { StageSession } from '../../runner/stage-session.js';
import type { StageSandbox } from '../../runner/sandbox.js';
import type { RunTaskParameters } from '../state-machine-runner.js';
import { LocalTaskDefinitions } from './local-task-definitions.js';
import type { RetireWorkFolder } from '../retired-work-folders.js';

export interface LocalFargateExecutorOptions {
  store: ArtifactStore;
  s3: S3Client;
  bucket: string;
  secrets: SecretsProvider;
  /** StageCredentials in-process: the helpers' grant (overrides) decides the secrets, as on AWS. */
  stageAccess?: StageAccessSource;
  region: string;
  /** Where task workspaces are made (under .buildfarm/). */
  workRoot: string;
  /** The helper code fargate-prepare hashes and stores (on AWS: the bundled helper). */
  helperCode: () => Promise<Buffer>;
  now?: () => number;
  /**
   * Where RunTask looks its task definition up; default: the local registry `prepare` fills. The
   * twin test tier registers task definitions in moto's ECS and looks them up there.
   */
  describeTaskDefinition?(arn: string): Promise<{ family: string } | undefined>;
  /**
   * Fargate conditions this machine never has, for tests and demos: `noCapacity` fails RunTask as
   * the `.sync` integration does when RunTask answers with `Failures` (AmazonECS.Unknown),
   * `spotInterruption` stops a FARGATE_SPOT task with StopCode SpotInterruption before it runs.
   */
  simulate?: (parameters: RunTaskParameters) => 'noCapacity' | 'spotInterruption' | undefined;
  /** The stage commands' sandbox (functions/local/sandbox-probe.ts); without it they run on the host shell. */
  sandbox?: StageSandbox;
  /** A counted store per task (as the helpers' own S3 clients on AWS); without it `store`, uncounted. */
  countedStore?(): CountedStore;
  /**
   * Takes a finished task's work folder away (renamed at once, its artifacts handed over and the
   * folder deleted in the background: retired-work-folders.ts); without it the folder is deleted
   * before `runTask` returns.
   */
  retire?: RetireWorkFolder;
}

/** An exit code for a build container the agent stopped (SIGKILL), as Docker reports it. */
const KILLED_EXIT_CODE = 137;

/** `ecs:runTask.sync` fails the state with this name when an essential container exits non-zero. */
export class TaskFailed extends Error {
  override readonly name = 'States.TaskFailed';
}

/** `ecs:runTask.sync` fails the state with this name when RunTask answers with `Failures` (run-task-errors.ts). */
export class RunTaskFailures extends Error {
  override readonly name = RUN_TASK_FAILURES;
}

/**
 * Counts tasks across every executor of this process: each local build makes its own executor,
 * and two builds at once must never share a task ARN or (and clean up) a task's work folder.
 */
let nextTask = 0;

export class LocalFargateExecutor {
  private readonly taskDefinitions: LocalTaskDefinitions;
  private readonly settings: TaskSettings;

  constructor(private readonly options: LocalFargateExecutorOptions) {
    this.taskDefinitions = new LocalTaskDefinitions(options.region);
    this.settings = {
      region: options.region,
      bucket: options.bucket,
      executionRoleArn: 'arn:aws:iam::000000000000:role/buildfarm-local-task-execution',
      taskRoleArn: 'arn:aws:iam::000000000000:role/buildfarm-local-task',
      logGroup: '/buildfarm/local/tasks',
      helperImage: 'public.ecr.aws/docker/library/node:22-slim',
      stageCredentialsFunction: 'buildfarm-local-stage-credentials',
    };
  }

  async prepare(input: FargatePrepareInput): Promise<FargatePrepareOutput> {
    // Its own counted client, as the function's on AWS: the report bills the requests it made.
    const counted = this.options.countedStore?.();
    try {
      return await prepareFargateTask(input, {
        taskDefinitions: this.taskDefinitions,
        helperBundles: new HelperBundleStore(counted?.client ?? this.options.s3, this.options.bucket),
        store: counted?.store ?? this.options.store,
        s3Requests: counted?.requests,
        settings: this.settings,
        helperCode: this.options.helperCode,
      });
    } finally {
      counted?.close();
    }
  }

  /** The stage's image from the plan (the default build image when it names none, or cannot be read). */
  private async stageImageOf(planKey: string | undefined, stageName: string | undefined): Promise<string> {
    if (!planKey || !stageName) return DEFAULT_STAGE_IMAGE;
    const stage = await readPlannedStage(this.options.store, planKey, stageName).catch(() => undefined);
    return stage?.image ?? DEFAULT_STAGE_IMAGE;
  }

  /** Runs the task to its stop and returns it; throws TaskFailed when the publish container fails. */
  async runTask(parameters: RunTaskParameters, output: NodeJS.WritableStream, fromFork = false, signal?: AbortSignal): Promise<EcsTask> {
    const now = this.options.now ?? Date.now;
    const env = new Map<string, string>();
    for (const container of parameters.Overrides.ContainerOverrides) {
      for (const variable of container.Environment ?? []) env.set(variable.Name, variable.Value);
    }
    const buildId = env.get(ENV.buildId);
    const stageName = env.get(ENV.stage);
    const planKey = env.get(ENV.planKey);
    const task = `${process.pid}-${nextTask++}`;
    const taskArn = `arn:aws:ecs:${this.options.region}:000000000000:task/buildfarm-local/${task}`;
    const startedAt = now();
    const provider = parameters.CapacityProviderStrategy[0]?.CapacityProvider;
    // No image is pulled here: the task's billed start-up is modelled (and marked so) from its images.
    const stageImage = await this.stageImageOf(planKey, stageName);
    const pullMs = modelledPullMs([this.settings.helperImage, stageImage]);
    const pullStartedAt = startedAt - pullMs;
    const base: EcsTask = { TaskArn: taskArn, CapacityProviderName: provider, PullStartedAt: pullStartedAt, PullStoppedAt: startedAt, BuildfarmPullModelledMs: pullMs };
    // Capacity is decided before the task exists (RunTask's answer); an interruption stops it.
    const simulated = this.options.simulate?.(parameters);
    if (simulated === 'noCapacity') throw new RunTaskFailures(runTaskFailuresCause(CAPACITY_UNAVAILABLE));
    if (simulated === 'spotInterruption' && provider === 'FARGATE_SPOT') {
      throw new TaskFailed(JSON.stringify({ ...base, LastStatus: 'STOPPED', StopCode: SPOT_INTERRUPTION, StoppedReason: 'Your Spot Task was interrupted.', StoppedAt: now() } satisfies EcsTask));
    }
    const definition = this.options.describeTaskDefinition
      ? await this.options.describeTaskDefinition(parameters.TaskDefinition)
      : this.taskDefinitions.describe(parameters.TaskDefinition);
    if (!definition) throw new TaskFailed(JSON.stringify({ StoppedReason: `unknown task definition ${parameters.TaskDefinition}` }));
    if (!buildId || !stageName || !planKey) {
      throw new TaskFailed(JSON.stringify({ ...base, LastStatus: 'STOPPED', StopCode: 'TaskFailedToStart', StoppedReason: 'the overrides name no build, stage or plan', StoppedAt: now() }));
    }
    const slice = await readStageSlice(this.options.store, planKey, stageName).catch(() => undefined);
    const stage = slice?.stage;
    if (!stage) {
      throw new TaskFailed(JSON.stringify({ ...base, LastStatus: 'STOPPED', StopCode: 'TaskFailedToStart', StoppedReason: `stage ${stageName} is not in ${planKey}`, StoppedAt: now() }));
    }

    const workRoot = join(this.options.workRoot, `task-${task}`);
    await mkdir(workRoot, { recursive: true });
    const memory = Number(parameters.Overrides.Memory);
    const storageGiB = parameters.Overrides.EphemeralStorage?.SizeInGiB ?? 20;
    output.write(`[fargate] ${definition.family}: ${Number(parameters.Overrides.Cpu) / 1024} vCPU, ${memory} MiB, ${storageGiB} GiB; no container engine here, so the phases run ${this.options.sandbox?.kind === 'bubblewrap' ? 'in the bubblewrap sandbox' : 'on the host shell'}\n`);
    let result: StageResult | undefined;
    const counted = this.options.countedStore?.();
    try {
      const grant = env.get(ENV.grant);
      const secrets =
        grant && this.options.stageAccess ? (await StageSession.open(this.options.stageAccess, grant, now)).secretsProvider() : this.options.secrets;
      result = await runStage(
        {
          buildId,
          stage: { ...stage, runner: 'fargate' },
          runner: 'fargate',
          workRoot,
          deadline: now() + stage.timeoutSeconds * 1000,
          diskLimitMiB: storageGiB * 1024,
          memoryLimitMiB: memory,
          fromFork,
          signal,
          sandbox: this.options.sandbox,
          // The build image's environment on AWS; here the same Lambda-like one as local Lambda stages.
          runtimeEnv: localStageRuntimeEnv(),
          ...(slice?.cacheScope ? { cacheScope: slice.cacheScope } : {}),
        },
        { store: counted?.store ?? this.options.store, s3Requests: counted?.requests, secrets, now, output },
      );
    } catch (error) {
      // The publish container could not record a result: the task fails as on AWS.
      const stoppedAt = now();
      throw new TaskFailed(
        JSON.stringify({
          ...base,
          LastStatus: 'STOPPED',
          StopCode: 'EssentialContainerExited',
          StoppedReason: `Essential container in task exited: ${(error as Error).name}: ${(error as Error).message}`,
          StartedAt: startedAt,
          StoppedAt: stoppedAt,
          Containers: [
            { Name: FETCH_CONTAINER, ExitCode: 0, LastStatus: 'STOPPED' },
            { Name: BUILD_CONTAINER, LastStatus: 'STOPPED' },
            { Name: PUBLISH_CONTAINER, ExitCode: 1, LastStatus: 'STOPPED', Reason: (error as Error).message },
          ],
        } satisfies EcsTask),
      );
    } finally {
      counted?.close();
      // runStage returns once every command's process has ended (in bubblewrap, with its PID namespace).
      if (this.options.retire) await this.options.retire(workRoot, result);
      else await rm(workRoot, { recursive: true, force: true });
    }
    const buildExit = result.exitCode ?? (result.status === 'succeeded' ? 0 : KILLED_EXIT_CODE);
    return {
      ...base,
      LastStatus: 'STOPPED',
      StopCode: 'EssentialContainerExited',
      StoppedReason: 'Essential container in task exited',
      StartedAt: startedAt,
      StoppedAt: now(),
      Containers: [
        { Name: FETCH_CONTAINER, ExitCode: 0, LastStatus: 'STOPPED' },
        { Name: BUILD_CONTAINER, ExitCode: buildExit, LastStatus: 'STOPPED' },
        { Name: PUBLISH_CONTAINER, ExitCode: 0, LastStatus: 'STOPPED' },
      ],
    };
  }
}
