/**
 * The Lambda runner: runs one planned stage inside this function's /tmp.
 * Step Functions invokes it (`lambda:invoke`) with
 * `{ buildId, stageName, planKey, fromFork? }`; it returns the StageResult,
 * or throws `StageTimeout` / `OutOfDisk`, which the state machine catches to
 * escalate the stage to Fargate. The logic is `runLambdaStage`
 * (runner/lambda-run.ts); this file wires the AWS clients and Powertools.
 *
 * Environment:
 * - ARTIFACT_BUCKET: the artifact bucket (required);
 * - EPHEMERAL_STORAGE_MB: the function's /tmp size (default 512);
 * - RUNNER_TMP_DIR: replaces /tmp (the local Lambda executor points it at its own directory).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { AwsSecretsProvider } from '../adapters/aws/aws-secrets-provider.js';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import type { StageResult } from '../domain/report/types.js';
import { runLambdaStage, type LambdaRunnerDeps, type LambdaRunnerEvent } from '../runner/lambda-run.js';

export type { LambdaRunnerEvent } from '../runner/lambda-run.js';

export interface LambdaRunnerHandlerOptions {
  env?: NodeJS.ProcessEnv;
  s3?: S3Client;
  secretsManager?: SecretsManagerClient;
  ssm?: SSMClient;
  logger?: Logger;
  /** Where the stage's live log goes (default stdout, i.e. CloudWatch Logs). */
  output?: NodeJS.WritableStream;
}

export function createLambdaRunnerHandler(options: LambdaRunnerHandlerOptions = {}) {
  const env = options.env ?? process.env;
  const logger = options.logger ?? new Logger({ serviceName: 'buildfarm-lambda-runner' });
  // Clients are made once per sandbox and reused by warm invocations.
  let deps: LambdaRunnerDeps | undefined;

  function awsDeps(): LambdaRunnerDeps {
    if (deps === undefined) {
      const bucket = env.ARTIFACT_BUCKET;
      if (!bucket) throw new Error('ARTIFACT_BUCKET is not set');
      deps = {
        store: new S3ArtifactStore(options.s3 ?? new S3Client({}), bucket),
        secrets: new AwsSecretsProvider(
          options.secretsManager ?? new SecretsManagerClient({}),
          options.ssm ?? new SSMClient({}),
        ),
        now: Date.now,
        tmpRoot: env.RUNNER_TMP_DIR || '/tmp',
        ephemeralStorageMB: Number(env.EPHEMERAL_STORAGE_MB ?? 512) || 512,
        output: options.output,
      };
    }
    return deps;
  }

  async function runStageInLambda(event: LambdaRunnerEvent, context: Context): Promise<StageResult> {
    logger.appendKeys({ buildId: event.buildId, stage: event.stageName });
    try {
      const result = await runLambdaStage(event, context, awsDeps());
      logger.info('stage finished', {
        status: result.status,
        errorName: result.errorName,
        durationMs: result.durationMs,
        peakMemoryMiB: result.peakMemoryMiB,
        peakDiskMiB: result.peakDiskMiB,
      });
      return result;
    } catch (error) {
      // StageTimeout/OutOfDisk escalate to Fargate; anything else is an infrastructure error.
      logger.warn('stage ended with an error', { errorName: (error as Error).name, message: (error as Error).message });
      throw error;
    } finally {
      logger.removeKeys(['buildId', 'stage']);
    }
  }

  return middy(runStageInLambda).use(injectLambdaContext(logger));
}

export const handler = createLambdaRunnerHandler();
