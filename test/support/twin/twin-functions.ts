/**
 * The farm's Lambda functions as the twin runs them: each bound by name to the router, running
 * the real handler code of functions/handlers with its real adapters, their SDK clients pointed
 * at the twin's endpoint (so S3, SNS, ECS, Step Functions, Secrets Manager and SSM are moto's).
 * What each binding builds mirrors the handler's own `depsFromEnvironment` (the template's
 * environment); only the source differs: `git archive` of a local repository (the local farm's
 * GitArchiveSource) stands in for GitHub's tarball API.
 *
 * One more function (stage-scoped credentials, ...) is one more `router.bindFunction` line.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { AwsSecretsProvider } from '../../../functions/adapters/aws/aws-secrets-provider.js';
import { EcsTaskDefinitions } from '../../../functions/adapters/aws/ecs-task-definitions.js';
import { HelperBundleStore } from '../../../functions/adapters/aws/helper-bundle-store.js';
import { LambdaStageAccessSource } from '../../../functions/adapters/aws/lambda-stage-access-source.js';
import { S3TextReader } from '../../../functions/adapters/aws/s3-text-reader.js';
import { StsStageSessionMinter } from '../../../functions/adapters/aws/sts-stage-session-minter.js';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { SfnRunningBuilds, stateMachineArnOf } from '../../../functions/adapters/aws/sfn-running-builds.js';
import { SfnTaskTokens } from '../../../functions/adapters/aws/sfn-task-tokens.js';
import { SnsNotifier } from '../../../functions/adapters/aws/sns-notifier.js';
import { GitArchiveSource } from '../../../functions/adapters/local/git-archive-source.js';
import { S3HistoryStore } from '../../../functions/adapters/s3-history-store.js';
import { DEFAULT_PRICE_BOOK, regionPrices } from '../../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../../functions/domain/report/cost-model.js';
import { LAMBDA_MAX_TIMEOUT_SECONDS, LAMBDA_RUNNER_TIERS_MB } from '../../../functions/domain/sizing/lambda-sizes.js';
import type { PlanTaskInput, ReportTaskInput, ScheduleTaskInput } from '../../../functions/handlers/build-state-machine.js';
import { prepareFargateTask, type FargatePrepareInput } from '../../../functions/handlers/fargate-prepare.js';
import { createLambdaRunnerHandler, type LambdaRunnerEvent } from '../../../functions/handlers/lambda-runner.js';
import { planTask } from '../../../functions/handlers/plan.js';
import { reportTask } from '../../../functions/handlers/report.js';
import { scheduleTask } from '../../../functions/handlers/schedule.js';
import { issueStageAccess, type StageCredentialsInput } from '../../../functions/handlers/stage-credentials-core.js';
import type { TwinClients } from './twin-aws.js';
import type { TwinRouter } from './router.js';

export const TWIN_ACCOUNT = '123456789012';
/** The Lambda runner's /tmp (the template's LambdaEphemeralStorageMB default), as in the local farm. */
export const TWIN_EPHEMERAL_STORAGE_MB = 512;

export const twinFunctionName = (name: string) => `buildfarm-twin-${name}`;
export const twinFunctionArn = (region: string, name: string) => `arn:aws:lambda:${region}:${TWIN_ACCOUNT}:function:${twinFunctionName(name)}`;
export const runnerFunctionName = (memoryMB: number) => `runner-${memoryMB}`;

export interface TwinFunctionsOptions {
  clients: TwinClients;
  bucket: string;
  region: string;
  reportsTopicArn: string;
  /** The repository every build's source comes from (a git working tree). */
  repositoryPath: string;
  /** Scratch space for the runner's /tmp sandboxes. */
  workRoot: string;
  /** The Fargate helper's code, hashed into its S3 key by fargate-prepare. */
  helperCode(): Promise<Buffer>;
  /** A runner tier's function timeout, s, where it is not the template's 900 (to make a stage escalate). */
  runnerTimeoutSeconds?: Partial<Record<number, number>>;
  /** The router's endpoint: the runners' Lambda client (to StageCredentials) and their stage-session S3 clients go there. */
  endpoint: string;
}

/** The StageAccessRole the template creates; moto's STS issues sessions for it (it checks no trust policy). */
export const twinStageAccessRoleArn = `arn:aws:iam::${TWIN_ACCOUNT}:role/buildfarm-twin-stage-access`;

const quietLogger = (serviceName: string) => new Logger({ serviceName, logLevel: 'SILENT' });

/** The part of the Lambda context the runner and Powertools read. */
function lambdaContext(region: string, name: string, memoryMB: number, timeoutSeconds: number): Context {
  const deadline = Date.now() + timeoutSeconds * 1000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: twinFunctionName(name),
    functionVersion: '$LATEST',
    invokedFunctionArn: twinFunctionArn(region, name),
    memoryLimitInMB: String(memoryMB),
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${twinFunctionName(name)}`,
    logStreamName: 'twin',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function bindTwinFunctions(router: TwinRouter, options: TwinFunctionsOptions): void {
  const { clients, bucket, region } = options;
  const store = new S3ArtifactStore(clients.s3, bucket);
  const prices = DEFAULT_PRICE_BOOK;
  const source = new GitArchiveSource(options.repositoryPath);
  const fn = (name: string) => twinFunctionName(name);

  router.bindFunction(fn('plan'), (event) => {
    const input = event as PlanTaskInput;
    return planTask(input, {
      store,
      source,
      config: { region, lambdaEphemeralStorageMB: TWIN_EPHEMERAL_STORAGE_MB },
      prices,
      running: new SfnRunningBuilds(clients.sfn, stateMachineArnOf(input.executionArn)),
      logger: quietLogger('buildfarm-plan'),
    });
  });

  router.bindFunction(fn('schedule'), (event) =>
    scheduleTask(event as ScheduleTaskInput, {
      store,
      now: () => new Date(),
      // SendTaskSuccess/SendTaskFailure to moto's engine, which holds the Wait for needs callbacks.
      tokens: new SfnTaskTokens(clients.sfn),
      runnerFunctionFor: (size) => (LAMBDA_RUNNER_TIERS_MB.includes(size.memoryMB) ? twinFunctionArn(region, runnerFunctionName(size.memoryMB)) : undefined),
    }),
  );

  router.bindFunction(fn('report'), (event) =>
    reportTask(event as ReportTaskInput, {
      store,
      notifier: new SnsNotifier(clients.sns, options.reportsTopicArn),
      costs: pricedCostModel(regionPrices(prices, region)),
      now: () => new Date(),
      region,
      history: new S3HistoryStore(store),
      logger: quietLogger('buildfarm-report'),
    }),
  );

  // StageCredentials, as the template deploys it: reads the grant, AssumeRole with the stage's session
  // policy (moto's STS), resolves the declared secrets (moto's Secrets Manager and SSM).
  const sts = new STSClient({ endpoint: options.endpoint, region, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' }, maxAttempts: 1 });
  router.bindFunction(fn('stage-credentials'), (event) =>
    issueStageAccess(event as StageCredentialsInput, {
      store: new S3TextReader(clients.s3, bucket),
      minter: new StsStageSessionMinter(sts, twinStageAccessRoleArn),
      secrets: new AwsSecretsProvider(clients.secretsManager, clients.ssm),
      bucketArn: `arn:aws:s3:::${bucket}`,
      systemSecretArns: [],
      now: Date.now,
    }),
  );
  const stageAccess = twinStageAccess(options.endpoint, region);

  router.bindFunction(fn('fargate-prepare'), (event) =>
    prepareFargateTask(event as FargatePrepareInput, {
      taskDefinitions: new EcsTaskDefinitions(clients.ecs),
      helperBundles: new HelperBundleStore(clients.s3, bucket),
      store,
      settings: {
        region,
        bucket,
        executionRoleArn: `arn:aws:iam::${TWIN_ACCOUNT}:role/buildfarm-twin-task-execution`,
        taskRoleArn: `arn:aws:iam::${TWIN_ACCOUNT}:role/buildfarm-twin-task`,
        logGroup: '/buildfarm/twin/tasks',
        helperImage: 'public.ecr.aws/docker/library/node:22-slim',
        stageCredentialsFunction: twinFunctionArn(region, 'stage-credentials'),
      },
      helperCode: options.helperCode,
    }),
  );

  // One runner function per memory tier, as the template deploys them; each invocation gets a /tmp of its own.
  for (const memoryMB of LAMBDA_RUNNER_TIERS_MB) {
    const name = runnerFunctionName(memoryMB);
    router.bindFunction(fn(name), async (event) => {
      const tmp = await mkdtemp(join(options.workRoot, `${name}-`));
      try {
        const handler = createLambdaRunnerHandler({
          env: { ARTIFACT_BUCKET: bucket, RUNNER_TMP_DIR: tmp, EPHEMERAL_STORAGE_MB: String(TWIN_EPHEMERAL_STORAGE_MB) },
          // The runner reaches S3 only with the stage session StageCredentials returns (over the router),
          // with the SDK's default attempts and the runner's own timeouts, as on AWS.
          stageAccess,
          s3Config: { endpoint: options.endpoint, region, forcePathStyle: true },
          sweepProcesses: async () => undefined,
          logger: quietLogger('buildfarm-lambda-runner'),
          output: { write: () => true } as unknown as NodeJS.WritableStream,
        });
        const timeoutSeconds = options.runnerTimeoutSeconds?.[memoryMB] ?? LAMBDA_MAX_TIMEOUT_SECONDS;
        return await handler(event as LambdaRunnerEvent, lambdaContext(region, name, memoryMB, timeoutSeconds));
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
    });
  }
}

/** How a runner (or a Fargate helper) reaches StageCredentials: Lambda Invoke through the router, as on AWS. */
export function twinStageAccess(endpoint: string, region: string): LambdaStageAccessSource {
  const lambda = new LambdaClient({ endpoint, region, credentials: { accessKeyId: 'twin', secretAccessKey: 'twin' }, maxAttempts: 1 });
  return new LambdaStageAccessSource(lambda, twinFunctionArn(region, 'stage-credentials'));
}

/** The secrets provider the Fargate helpers use on AWS, over moto. */
export function twinSecrets(clients: TwinClients): AwsSecretsProvider {
  return new AwsSecretsProvider(clients.secretsManager, clients.ssm);
}

export const FARGATE_HELPER_SOURCE = new URL('../../../functions/runner/fargate-helper.ts', import.meta.url);

/** On AWS the helper is an esbuild bundle; here its source stands in (only its hash is used), as in the local farm. */
export const readHelperCode = () => readFile(FARGATE_HELPER_SOURCE);
