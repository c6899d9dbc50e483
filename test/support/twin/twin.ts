/**
 * The AWS twin: moto_server behind the router, the stack created in moto, the real handlers bound
 * as the stack's Lambda functions and the local Fargate executor as ECS's tasks. `runBuild`
 * starts an execution of the real state machine on moto's Step Functions engine and waits for it
 * to end, as a deployed farm's start-build function and the console would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientException, DescribeTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  StartExecutionCommand,
  type DescribeExecutionCommandOutput,
  type HistoryEvent,
} from '@aws-sdk/client-sfn';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { RUNNER_S3_REQUEST_HANDLER } from '../../../functions/adapters/aws/s3-http-timeouts.js';
import type { BuildReport } from '../../../functions/domain/report/types.js';
import type { BuildExecutionInput } from '../../../functions/handlers/build-state-machine.js';
import { LocalFargateExecutor } from '../../../functions/local/executors/local-fargate-executor.js';
import { startMotoServer, type MotoServer } from './moto-server.js';
import { TwinRouter } from './router.js';
import type { SnsEnvelope } from './sqs-queue.js';
import { readBuildDefinition } from '../../../functions/local/asl-definition.js';
import { createBuildStateMachine, createTwinStack, twinClients, type TwinClients, type TwinStack, type TwinStackOptions } from './twin-aws.js';
import { TwinFargate } from './twin-fargate.js';
import { bindTwinFunctions, readHelperCode, twinSecrets, twinStageAccess } from './twin-functions.js';

export const TWIN_REGION = 'us-east-1';

export interface Twin {
  router: TwinRouter;
  moto: MotoServer;
  clients: TwinClients;
  stack: TwinStack;
  fargate: TwinFargate;
  /** What the BuildReports topic delivered to its SQS subscriber so far. */
  reports(): Promise<SnsEnvelope[]>;
  runBuild(input: BuildExecutionInput, options?: { timeoutMs?: number; stateMachineArn?: string }): Promise<TwinBuild>;
  /**
   * Creates another build state machine in moto, from the same file with the stack's
   * substitutions but `maxStageConcurrency` (the template's MaxStageConcurrency parameter).
   */
  buildStateMachine(name: string, options: { maxStageConcurrency: number }): Promise<string>;
  /** Creates a state machine from `definition` and runs one execution of it to its end. */
  runDefinition(name: string, definition: object, input: unknown): Promise<TwinExecution>;
  stop(): Promise<void>;
}

export interface TwinExecution {
  executionArn: string;
  execution: DescribeExecutionCommandOutput;
  history: HistoryEvent[];
}

export interface TwinBuild extends TwinExecution {
  /** report.json from moto's S3, when the execution wrote one. */
  report?: BuildReport;
}

export interface TwinOptions extends Omit<TwinStackOptions, 'endpoint'> {
  /** The git repository every build's source comes from. */
  repositoryPath: string;
  /** A runner tier's function timeout, s (default the template's 900). */
  runnerTimeoutSeconds?: Partial<Record<number, number>>;
}

export async function startTwin(options: TwinOptions): Promise<Twin> {
  const router = new TwinRouter();
  const routerPort = await router.listen();
  const cleanups: (() => Promise<void>)[] = [() => router.close()];
  const stop = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const moto = await startMotoServer({ servicePort: routerPort });
    cleanups.push(() => moto.stop());
    router.forwardTo(moto.endpoint);
    const workRoot = await mkdtemp(join(tmpdir(), 'buildfarm-twin-'));
    cleanups.push(() => rm(workRoot, { recursive: true, force: true }));
    const clients = twinClients(`http://127.0.0.1:${routerPort}`, TWIN_REGION);
    cleanups.push(async () => clients.destroy());
    const endpoint = `http://127.0.0.1:${routerPort}`;
    const stack = await createTwinStack(clients, TWIN_REGION, { ...options, endpoint });

    bindTwinFunctions(router, {
      clients,
      bucket: stack.bucket,
      region: TWIN_REGION,
      reportsTopicArn: stack.reportsTopicArn,
      repositoryPath: options.repositoryPath,
      workRoot,
      helperCode: readHelperCode,
      runnerTimeoutSeconds: options.runnerTimeoutSeconds,
      endpoint,
    });
    // The Fargate helpers' S3 client as on AWS (helper-deps-from-env.ts): the SDK's default 3 attempts
    // and the runner's timeouts, not the twin's single attempt. A connection reset before the answer
    // (a reused keep-alive socket the router had just closed) is retried there; with one attempt it
    // ended a stage `TimeoutError: read ECONNRESET` (a clean-clone run of build-on-moto.test.ts).
    const runnerS3 = new S3Client({ endpoint, region: TWIN_REGION, forcePathStyle: true, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' }, requestHandler: RUNNER_S3_REQUEST_HANDLER });
    cleanups.push(async () => runnerS3.destroy());
    const fargate = new TwinFargate({
      clusterArn: stack.clusterArn,
      executor: new LocalFargateExecutor({
        store: new S3ArtifactStore(runnerS3, stack.bucket),
        s3: runnerS3,
        bucket: stack.bucket,
        secrets: twinSecrets(clients),
        // The helpers take their secrets from StageCredentials with the task's grant, as on AWS.
        stageAccess: twinStageAccess(endpoint, TWIN_REGION),
        region: TWIN_REGION,
        workRoot: join(workRoot, 'fargate'),
        helperCode: readHelperCode,
        describeTaskDefinition: async (arn) => {
          try {
            const { taskDefinition } = await clients.ecs.send(new DescribeTaskDefinitionCommand({ taskDefinition: arn }));
            return taskDefinition?.family ? { family: taskDefinition.family } : undefined;
          } catch (error) {
            if (error instanceof ClientException) return undefined;
            throw error;
          }
        },
      }),
    });
    fargate.bind(router);
    // Tasks still running when a test fails stop with the twin (their processes with them).
    cleanups.splice(1, 0, () => fargate.idle());

    return {
      router,
      moto,
      clients,
      stack,
      fargate,
      reports: (() => {
        const received: SnsEnvelope[] = [];
        return async () => {
          received.push(...(await stack.reports.receiveAll()));
          return received;
        };
      })(),
      runBuild: (input, runOptions) => runBuild(clients, stack, input, runOptions?.timeoutMs ?? 60_000, runOptions?.stateMachineArn),
      async buildStateMachine(name, machineOptions) {
        const substitutions = { ...stack.substitutions, MaxStageConcurrency: String(machineOptions.maxStageConcurrency) };
        const text = options.definitionText ?? (await readBuildDefinition());
        return (await createBuildStateMachine(clients, name, text, substitutions, stack.roleArn)).stateMachineArn;
      },
      async runDefinition(name, definition, input) {
        const { stateMachineArn } = await clients.sfn.send(
          new CreateStateMachineCommand({ name, definition: JSON.stringify(definition), roleArn: stack.roleArn, type: 'STANDARD' }),
        );
        return runExecution(clients, stateMachineArn!, `${name}-1`, input, 60_000);
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Starts an execution and waits for it to end; its whole history comes back with it. */
export async function runExecution(clients: TwinClients, stateMachineArn: string, name: string, input: unknown, timeoutMs: number): Promise<TwinExecution> {
  const { executionArn } = await clients.sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
  const deadline = Date.now() + timeoutMs;
  let execution: DescribeExecutionCommandOutput;
  for (;;) {
    execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    if (execution.status !== 'RUNNING') break;
    if (Date.now() > deadline) throw new Error(`execution ${executionArn} still RUNNING after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const history: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await clients.sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    history.push(...(page.events ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return { executionArn: executionArn!, execution, history };
}

async function runBuild(clients: TwinClients, stack: TwinStack, input: BuildExecutionInput, timeoutMs: number, stateMachineArn = stack.stateMachineArn): Promise<TwinBuild> {
  const run = await runExecution(clients, stateMachineArn, input.buildId, input, timeoutMs);
  const output = run.execution.output ? (JSON.parse(run.execution.output) as { reportKey?: string }) : {};
  let report: BuildReport | undefined;
  if (output.reportKey) {
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: output.reportKey }));
    report = JSON.parse(await object.Body!.transformToString()) as BuildReport;
  }
  return { ...run, report };
}
