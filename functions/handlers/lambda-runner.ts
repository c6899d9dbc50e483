/**
 * The Lambda runner: runs one planned stage inside this function's /tmp.
 * Step Functions invokes it with `{ buildId, stageName, planKey }`; it
 * returns the StageResult, or throws `StageTimeout` / `OutOfDisk` (which the
 * state machine catches to escalate the stage to Fargate). The logic is in
 * runner/lambda-run.ts; this file only wires the AWS clients.
 *
 * Environment: ARTIFACT_BUCKET (required), EPHEMERAL_STORAGE_MB (the
 * function's /tmp size, default 512), RUNNER_TMP_DIR (default /tmp: the
 * local Lambda executor points it at its own quota'd directory).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context } from 'aws-lambda';
import { AwsSecretsProvider } from '../adapters/aws/aws-secrets-provider.js';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import type { StageResult } from '../domain/report/types.js';
import { runLambdaStage, type LambdaRunnerDeps, type LambdaRunnerEvent } from '../runner/lambda-run.js';

export type { LambdaRunnerEvent } from '../runner/lambda-run.js';

let deps: LambdaRunnerDeps | undefined;

/** Clients are made once per sandbox and reused by warm invocations. */
function awsDeps(): LambdaRunnerDeps {
  if (deps === undefined) {
    const bucket = process.env.ARTIFACT_BUCKET;
    if (!bucket) throw new Error('ARTIFACT_BUCKET is not set');
    deps = {
      store: new S3ArtifactStore(new S3Client({}), bucket),
      secrets: new AwsSecretsProvider(new SecretsManagerClient({}), new SSMClient({})),
      now: Date.now,
      tmpRoot: process.env.RUNNER_TMP_DIR || '/tmp',
      ephemeralStorageMB: Number(process.env.EPHEMERAL_STORAGE_MB ?? 512) || 512,
    };
  }
  return deps;
}

export async function handler(event: LambdaRunnerEvent, context: Context): Promise<StageResult> {
  return runLambdaStage(event, context, awsDeps());
}
