/**
 * Runs the real `statemachines/build.asl.json` on this machine with `aws-local-stepfunctions`.
 * Every Task state is bound to a local function: `lambda:invoke` tasks by their FunctionName
 * (the plan, schedule, report and fargate-prepare functions; any other name is a Lambda runner
 * tier), `ecs:runTask.sync` to a local Fargate executor. Bindings throw errors with the names
 * Step Functions uses, and the interpreter routes Retry/Catch on `error.name`, as AWS does.
 */
import {
  StateMachine,
  type StateMachineDefinition,
} from 'aws-local-stepfunctions';
import type { StageResult } from '../domain/report/types.js';
import type {
  BuildExecutionInput,
  EcsTask,
  PlanTaskInput,
  PlanTaskOutput,
  ReportTaskInput,
  ReportTaskOutput,
  ScheduleTaskInput,
  ScheduleTaskOutput,
  SelectStagesOutput,
  StageSummary,
} from '../handlers/build-state-machine.js';
import type { CapacityProvider } from '../domain/report/run-record.js';
import type { TaskOverrides } from '../domain/fargate/overrides.js';
import type { FargatePrepareInput, FargatePrepareOutput } from '../handlers/fargate-prepare.js';
import type { LambdaRunnerEvent } from '../runner/lambda-run.js';
import type { TaskTokens } from '../ports/task-tokens.js';
import { LocalTaskTokens } from './local-task-tokens.js';
import { localSubstitutions, readBuildDefinition, substitutePlaceholders, type Substitutions } from './asl-definition.js';

export type { LambdaRunnerEvent };

/** What `Prepare Fargate task` sends (it adds `fromFork`, which the Fargate helpers must honour). */
export type FargatePrepareEvent = FargatePrepareInput & { fromFork: boolean };


/** The `ecs:runTask.sync` Parameters, after the interpreter resolved the paths. */
export interface RunTaskParameters {
  Cluster: string;
  TaskDefinition: string;
  CapacityProviderStrategy: { CapacityProvider: CapacityProvider; Weight: number }[];
  NetworkConfiguration: { AwsvpcConfiguration: { Subnets: string[]; SecurityGroups: string[]; AssignPublicIp: string } };
  Overrides: TaskOverrides;
  PropagateTags: string;
  StartedBy: string;
}

export interface LocalTaskBindings {
  plan(input: PlanTaskInput): Promise<PlanTaskOutput>;
  /** `tokens`: completes the execution's callback tasks (`Wait for needs`), as SendTaskSuccess does on AWS. */
  schedule(input: ScheduleTaskInput, tokens: TaskTokens): Promise<ScheduleTaskOutput>;
  report(input: ReportTaskInput): Promise<ReportTaskOutput>;
  /** `functionName`: the runner function the plan chose for the stage's memory tier. */
  runLambdaStage(event: LambdaRunnerEvent, functionName: string): Promise<StageResult | StageSummary>;
  prepareFargate(event: FargatePrepareEvent): Promise<FargatePrepareOutput>;
  /**
   * Runs a task until it stops and returns it, as `ecs:runTask.sync` does. Throws
   * `ECS.AmazonECSException` for capacity, and `States.TaskFailed` (message: the task JSON) when
   * an essential container exits non-zero.
   */
  runFargateTask(parameters: RunTaskParameters): Promise<EcsTask>;
}

export interface LocalRunOptions {
  /** The definition text with placeholders; default: statemachines/build.asl.json. */
  definitionText?: string;
  substitutions?: Partial<Substitutions>;
  /** Pause before each Retry, ms (default 0: nothing local is throttled). */
  retryDelayMs?: number;
  /** Every interpreter event, as it happens (progress display). */
  onEvent?(event: LocalEvent): void;
  /** A state of one stage's path was entered or left (`Run on Lambda`, `Run Fargate task`, ...). */
  onStageState?(event: StageStateEvent): void;
  startTime?: Date;
  /** Stops the execution: running bindings should watch the same signal to end their processes. */
  signal?: AbortSignal;

}

export interface LocalEvent {
  type: string;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  index?: number;
  Error?: string;
  Cause?: unknown;
}

export interface StageStateEvent {
  stage: string;
  state: string;
  type: 'StateEntered' | 'StateExited' | 'StateFailed' | 'StateRetried' | 'StateCaught';
  error?: string;
}

const STAGE_EVENT_TYPES = new Set(['StateEntered', 'StateExited', 'StateFailed', 'StateRetried', 'StateCaught']);

/** The stage a state belongs to: every state of a `Run stages` iteration carries `stage.name` in its input. */
function stageOf(event: LocalEvent): string | undefined {
  const input = event.state?.input as { stage?: { name?: unknown } } | undefined;
  return typeof input?.stage?.name === 'string' ? input.stage.name : undefined;
}

/** The execution was stopped through `signal`. */
export class BuildAborted extends Error {
  override readonly name = 'BuildAborted';
}

export interface LocalRunResult {
  output: ReportTaskOutput;
  /** States entered plus retries, counted from the interpreter's events (what AWS bills). */
  stateTransitions: number;
  /** `name` of each state entered, in order (nested states included). */
  statesEntered: string[];
}

const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const LAMBDA_INVOKE_WAIT_FOR_TOKEN = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** Where a callback task's Parameters take the token (`$$.Task.Token`, which the interpreter does not provide). */
const TASK_TOKEN_PATH = '$$.Task.Token';
const ECS_RUN_TASK_SYNC = 'arn:aws:states:::ecs:runTask.sync';

interface TaskStateInfo {
  name: string;
  resource: string;
}

type AnyState = { Type: string; Resource?: string; Retry?: unknown[]; TimeoutSecondsPath?: string; Parameters?: Record<string, unknown>; ItemProcessor?: { States: Record<string, AnyState> }; Iterator?: { States: Record<string, AnyState> }; Branches?: { States: Record<string, AnyState> }[] };

function walkStates(states: Record<string, AnyState>, visit: (name: string, state: AnyState) => void): void {
  for (const [name, state] of Object.entries(states)) {
    visit(name, state);
    const inner = state.ItemProcessor ?? state.Iterator;
    if (inner) walkStates(inner.States, visit);
    for (const branch of state.Branches ?? []) walkStates(branch.States, visit);
  }
}

/**
 * Lambda reports a function error with the error's name and, in `Cause`, a JSON object with
 * `errorType` and `errorMessage`: shape local errors the same way so handlers parse one format.
 */
function asLambdaFunctionError(error: unknown): Error {
  const source = error instanceof Error ? error : new Error(String(error));
  const shaped = new Error(JSON.stringify({ errorType: source.name, errorMessage: source.message }));
  shaped.name = source.name;
  return shaped;
}

function lambdaResponse(payload: unknown) {
  return { StatusCode: 200, ExecutedVersion: '$LATEST', Payload: payload };
}

/** Where `resolveTimeoutPathsOnStateInput` carries a resolved `TimeoutSecondsPath` in a task's Parameters. */
const LOCAL_TIMEOUT_FIELD = 'localTimeoutSeconds';

/**
 * Step Functions resolves `TimeoutSecondsPath` against the state's input, before `Parameters`
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html: "from the state input";
 * moto's engine, derived from LocalStack's snapshot-tested one, does the same), while
 * aws-local-stepfunctions resolves it against the effective input, after `Parameters`. So the
 * path is copied into the Parameters under a field of our own, read from there, and taken out
 * again before the task's binding sees the request.
 */
function resolveTimeoutPathsOnStateInput(states: Record<string, AnyState>): void {
  walkStates(states, (_name, state) => {
    if (state.Type !== 'Task' || !state.TimeoutSecondsPath || !state.Parameters) return;
    state.Parameters = { ...state.Parameters, [`${LOCAL_TIMEOUT_FIELD}.$`]: state.TimeoutSecondsPath };
    state.TimeoutSecondsPath = `$.${LOCAL_TIMEOUT_FIELD}`;
  });
}

function withoutLocalTimeout(raw: unknown): unknown {
  if (typeof raw !== 'object' || raw === null || !(LOCAL_TIMEOUT_FIELD in raw)) return raw;
  const { [LOCAL_TIMEOUT_FIELD]: _timeout, ...request } = raw as Record<string, unknown>;
  return request;
}

/**
 * aws-local-stepfunctions 3 has no callback tasks and no `$$.Task.Token`. Each field of a
 * `.waitForTaskToken` task's Payload that takes the token is taken out of the definition here;
 * the task's handler puts a token it issued (LocalTaskTokens) back in its place.
 */
function takeOutTaskTokenFields(states: Record<string, AnyState>): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  walkStates(states, (name, state) => {
    if (state.Type !== 'Task' || state.Resource !== LAMBDA_INVOKE_WAIT_FOR_TOKEN) return;
    const payload = state.Parameters?.Payload as Record<string, unknown> | undefined;
    const taken = Object.keys(payload ?? {}).filter((key) => key.endsWith('.$') && payload![key] === TASK_TOKEN_PATH);
    for (const key of taken) delete payload![key];
    fields.set(name, taken.map((key) => key.slice(0, -2)));
  });
  return fields;
}

export async function runBuildLocally(input: BuildExecutionInput, bindings: LocalTaskBindings, options: LocalRunOptions = {}): Promise<LocalRunResult> {
  const substitutions = { ...localSubstitutions(), ...options.substitutions };
  const text = substitutePlaceholders(options.definitionText ?? (await readBuildDefinition()), substitutions);
  const definition = JSON.parse(text) as StateMachineDefinition & { States: Record<string, AnyState> };
  resolveTimeoutPathsOnStateInput(definition.States);
  const tokenFields = takeOutTaskTokenFields(definition.States);
  const taskTokens = new LocalTaskTokens();

  const byFunction = new Map<string, (payload: unknown) => Promise<unknown>>([
    [substitutions.PlanFunctionArn, (p) => bindings.plan(p as PlanTaskInput)],
    [substitutions.ScheduleFunctionArn, (p) => bindings.schedule(p as ScheduleTaskInput, taskTokens)],
    [substitutions.ReportFunctionArn, (p) => bindings.report(p as ReportTaskInput)],
    [substitutions.FargatePrepareFunctionArn, (p) => bindings.prepareFargate(p as FargatePrepareEvent)],
  ]);

  const tasks: TaskStateInfo[] = [];
  const retrying: string[] = [];
  walkStates(definition.States, (name, state) => {
    if (state.Type === 'Task') tasks.push({ name, resource: state.Resource ?? '' });
    if (state.Retry) retrying.push(name);
  });

  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  for (const task of tasks) {
    if (task.resource === LAMBDA_INVOKE) {
      handlers[task.name] = async (raw) => {
        const { FunctionName, Payload } = withoutLocalTimeout(raw) as { FunctionName: string; Payload: unknown };
        const bound = byFunction.get(FunctionName) ?? ((p: unknown) => bindings.runLambdaStage(p as LambdaRunnerEvent, FunctionName));
        try {
          return lambdaResponse(await bound(Payload));
        } catch (error) {
          throw asLambdaFunctionError(error);
        }
      };
    } else if (task.resource === LAMBDA_INVOKE_WAIT_FOR_TOKEN) {
      // Invoke the function with a fresh token, then wait for the token's completion, as Step
      // Functions does (https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token).
      handlers[task.name] = async (raw) => {
        const { FunctionName, Payload } = withoutLocalTimeout(raw) as { FunctionName: string; Payload: Record<string, unknown> };
        const bound = byFunction.get(FunctionName);
        if (!bound) throw new Error(`Task state "${task.name}" waits for a token from ${FunctionName}, which the local farm does not bind`);
        const { taskToken, outcome } = taskTokens.issue();
        const withToken = { ...Payload, ...Object.fromEntries((tokenFields.get(task.name) ?? []).map((field) => [field, taskToken])) };
        try {
          await bound(withToken);
        } catch (error) {
          void outcome.catch(() => undefined);
          await taskTokens.fail(taskToken, 'abandoned', 'the function failed');
          throw asLambdaFunctionError(error);
        }
        return outcome;
      };
    } else if (task.resource === ECS_RUN_TASK_SYNC) {
      handlers[task.name] = (raw) => bindings.runFargateTask(withoutLocalTimeout(raw) as RunTaskParameters);
    } else {
      throw new Error(`Task state "${task.name}" uses ${task.resource}, which the local farm cannot run`);
    }
  }

  const retryDelay = options.retryDelayMs ?? 0;
  // No asl-validator run per build (0.1 to 0.3 s each): the definition is a file of this package,
  // validated once by test/statemachine/definition.test.ts, with deployed and local substitutions.
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  const startTime = (options.startTime ?? new Date()).toISOString();
  if (options.signal?.aborted) throw new BuildAborted('the build was stopped before it started');
  const execution = machine.run(input as never, {
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: Object.fromEntries(retrying.map((name) => [name, retryDelay])),
    },
    context: { Execution: { Id: `local:${input.buildId}`, Name: input.buildId, Input: input as never, StartTime: startTime } } as never,
    noThrowOnAbort: true,
  });
  const abort = () => {
    execution.abort();
    taskTokens.abandonAll('the build was stopped');
  };
  options.signal?.addEventListener('abort', abort, { once: true });

  let stateTransitions = 0;
  const statesEntered: string[] = [];
  const consumeEvents = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as LocalEvent;
      if (e.type === 'StateEntered' && e.state) {
        stateTransitions += 1;
        statesEntered.push(e.state.name);
      }
      if (e.type === 'StateRetried') stateTransitions += 1;
      options.onEvent?.(e);
      const stage = options.onStageState && STAGE_EVENT_TYPES.has(e.type) ? stageOf(e) : undefined;
      if (stage && e.state) options.onStageState!({ stage, state: e.state.name, type: e.type as StageStateEvent['type'], ...(e.Error ? { error: e.Error } : {}) });
    }
  })();
  try {
    const output = (await execution.result) as unknown as ReportTaskOutput | null;
    if (output === null) throw new BuildAborted('the build was stopped');
    await consumeEvents;
    return { output, stateTransitions, statesEntered };
  } finally {
    options.signal?.removeEventListener('abort', abort);
  }
}
