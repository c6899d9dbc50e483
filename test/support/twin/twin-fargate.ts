/**
 * ECS RunTask / DescribeTasks / StopTask for the twin, over the local farm's Fargate executor
 * (functions/local/executors/local-fargate-executor.ts): the same fetch, build and publish
 * phases the local farm runs, with the task definition looked up in moto's ECS (where the real
 * fargate-prepare code registered it).
 *
 * It speaks ECS's JSON 1.1 wire shape, as moto's engine sends it: camelCase members, timestamps
 * in epoch seconds. RunTask answers at once with a PROVISIONING task and runs it in the
 * background; DescribeTasks shows it RUNNING, then STOPPED with exit codes. That is the shape
 * `ecs:runTask.sync` polls on AWS (RunTask, then DescribeTasks until lastStatus is STOPPED).
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
 */
import { ENV } from '../../../functions/domain/fargate/layout.js';
import type { TaskOverrides } from '../../../functions/domain/fargate/overrides.js';
import type { EcsTask } from '../../../functions/handlers/build-state-machine.js';
import type { LocalFargateExecutor } from '../../../functions/local/executors/local-fargate-executor.js';
import type { RunTaskParameters } from '../../../functions/local/state-machine-runner.js';
import { EcsError, type TwinRouter } from './router.js';

type Json = Record<string, unknown>;

interface TwinTask {
  arn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  capacityProviderName?: string;
  startedBy?: string;
  createdAt: number;
  controller: AbortController;
  /** The stopped task, PascalCase and epoch ms as the executor returns it. */
  stopped?: EcsTask;
  done: Promise<void>;
}

export interface TwinFargateOptions {
  executor: LocalFargateExecutor;
  /** The cluster RunTask must name (ARN), as created in moto. */
  clusterArn: string;
  /** Each task's live output (default: dropped). */
  output?: (taskArn: string) => NodeJS.WritableStream;
}

const upperFirst = (key: string) => key.charAt(0).toUpperCase() + key.slice(1);
const lowerFirst = (key: string) => key.charAt(0).toLowerCase() + key.slice(1);

/** Deep key conversion between ECS's wire members (camelCase) and the ASL's Parameters (PascalCase). */
export function convertKeys(value: unknown, convert: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item) => convertKeys(item, convert));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [convert(key), convertKeys(inner, convert)]));
}

const TIMESTAMPS = ['createdAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppedAt', 'stoppingAt'];

/** The executor's task (PascalCase, epoch ms) as DescribeTasks puts it on the wire (camelCase, epoch seconds). */
function wireTask(task: EcsTask): Json {
  const wire = convertKeys(task, lowerFirst) as Json;
  for (const key of TIMESTAMPS) if (typeof wire[key] === 'number') wire[key] = (wire[key] as number) / 1000;
  return wire;
}

function sink(): NodeJS.WritableStream {
  return { write: () => true } as unknown as NodeJS.WritableStream;
}

export class TwinFargate {
  private readonly tasks = new Map<string, TwinTask>();
  /** RunTask requests as they arrived (wire shape), for tests. */
  readonly runTaskRequests: Json[] = [];

  constructor(private readonly options: TwinFargateOptions) {}

  bind(router: TwinRouter): void {
    router
      .bindEcs('RunTask', (request) => this.runTask(request))
      .bindEcs('DescribeTasks', (request) => this.describeTasks(request))
      .bindEcs('StopTask', (request) => this.stopTask(request));
  }

  /** Waits for every task to stop (test teardown). */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tasks.values()].map((task) => task.done));
  }

  private async runTask(request: Json): Promise<Json> {
    this.runTaskRequests.push(request);
    const cluster = String(request.cluster ?? '');
    if (cluster !== this.options.clusterArn && !this.options.clusterArn.endsWith(`/${cluster}`)) {
      throw new EcsError('ClusterNotFoundException', `Cluster not found: ${cluster}`);
    }
    const parameters = convertKeys(request, upperFirst) as RunTaskParameters & { Overrides?: TaskOverrides };
    if (!parameters.TaskDefinition) throw new EcsError('InvalidParameterException', 'taskDefinition is required');
    if (!parameters.Overrides?.ContainerOverrides) throw new EcsError('InvalidParameterException', 'the build farm always passes overrides');
    // No strategy and no launch type: ECS uses the cluster's default strategy (the template's is FARGATE).
    parameters.CapacityProviderStrategy ??= [{ CapacityProvider: 'FARGATE', Weight: 1 }];
    const strategy = parameters.CapacityProviderStrategy[0]?.CapacityProvider;
    const env = new Map(parameters.Overrides.ContainerOverrides.flatMap((c) => c.Environment ?? []).map((e) => [e.Name, e.Value]));
    const task: TwinTask = {
      arn: `${this.options.clusterArn.replace(':cluster/', ':task/')}/${crypto.randomUUID().replaceAll('-', '')}`,
      clusterArn: this.options.clusterArn,
      taskDefinitionArn: parameters.TaskDefinition,
      capacityProviderName: strategy,
      startedBy: typeof request.startedBy === 'string' ? request.startedBy : undefined,
      createdAt: Date.now(),
      controller: new AbortController(),
      done: Promise.resolve(),
    };
    const output = this.options.output?.(task.arn) ?? sink();
    task.done = this.options.executor
      .runTask(parameters, output, env.get(ENV.fromFork) === 'true', task.controller.signal)
      .then((stopped) => {
        task.stopped = stopped;
      })
      .catch((error: Error) => {
        // The executor throws States.TaskFailed with the stopped task as JSON: on ECS that task is simply STOPPED.
        let stopped: EcsTask;
        try {
          stopped = JSON.parse(error.message) as EcsTask;
        } catch {
          stopped = { LastStatus: 'STOPPED', StopCode: 'TaskFailedToStart', StoppedReason: `${error.name}: ${error.message}`, StoppedAt: Date.now() };
        }
        task.stopped = { ...stopped, LastStatus: 'STOPPED' };
      });
    this.tasks.set(task.arn, task);
    return { tasks: [this.describe(task)], failures: [] };
  }

  private async describeTasks(request: Json): Promise<Json> {
    const arns = Array.isArray(request.tasks) ? (request.tasks as string[]) : [];
    const tasks: Json[] = [];
    const failures: Json[] = [];
    for (const arn of arns) {
      const task = this.tasks.get(arn);
      if (task) tasks.push(this.describe(task));
      else failures.push({ arn, reason: 'MISSING' });
    }
    return { tasks, failures };
  }

  private async stopTask(request: Json): Promise<Json> {
    const task = this.tasks.get(String(request.task ?? ''));
    if (!task) throw new EcsError('InvalidParameterException', `The referenced task was not found: ${String(request.task)}`);
    task.controller.abort(new Error(String(request.reason ?? 'Task stopped by user')));
    await task.done;
    task.stopped = { ...task.stopped, StopCode: 'UserInitiated', StoppedReason: String(request.reason ?? 'Task stopped by user') };
    return { task: this.describe(task) };
  }

  private describe(task: TwinTask): Json {
    const common = {
      taskArn: task.arn,
      clusterArn: task.clusterArn,
      taskDefinitionArn: task.taskDefinitionArn,
      launchType: 'FARGATE',
      ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
      ...(task.startedBy ? { startedBy: task.startedBy } : {}),
      createdAt: task.createdAt / 1000,
      desiredStatus: task.stopped ? 'STOPPED' : 'RUNNING',
    };
    if (!task.stopped) return { ...common, lastStatus: 'RUNNING', containers: [] };
    return { ...common, ...wireTask(task.stopped), taskArn: task.arn, lastStatus: 'STOPPED' };
  }
}
