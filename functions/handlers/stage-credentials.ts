/**
 * The StageCredentials function (template.yaml): the runners invoke it with `{ grant }`
 * and get `{ credentials, secrets }` for that stage (handlers/stage-credentials-core.ts).
 * It never logs its input or output: both hold secrets.
 *
 * Environment: ARTIFACT_BUCKET, STAGE_ACCESS_ROLE_ARN, WEBHOOK_SECRET_ARN,
 * GITHUB_TOKEN_SECRET_ARN (may be empty); AWS_REGION is set by Lambda.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { AwsSecretsProvider } from '../adapters/aws/aws-secrets-provider.js';
import { S3TextReader } from '../adapters/aws/s3-text-reader.js';
import { StsStageSessionMinter } from '../adapters/aws/sts-stage-session-minter.js';
import { isSystemSecretArn } from '../domain/credentials/system-secrets.js';
import type { StageAccess } from '../ports/stage-access.js';
import { issueStageAccess, type StageCredentialsDeps, type StageCredentialsInput } from './stage-credentials-core.js';

const logger = new Logger({ serviceName: 'buildfarm-stage-credentials' });

/** `arn:aws:lambda:...` gives the partition the bucket's ARN needs (aws, aws-cn, aws-us-gov). */
function partitionOf(arn: string): string {
  return arn.split(':')[1] || 'aws';
}

/** (Not task-environment.ts's: that module brings the uploading S3 store, which this function has no use for.) */
function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

export function depsFromEnvironment(env: NodeJS.ProcessEnv = process.env): StageCredentialsDeps {
  const bucket = required(env, 'ARTIFACT_BUCKET');
  const roleArn = required(env, 'STAGE_ACCESS_ROLE_ARN');
  const systemSecretArns = [env.WEBHOOK_SECRET_ARN ?? '', env.GITHUB_TOKEN_SECRET_ARN ?? ''].filter((arn) => arn !== '');
  return {
    store: new S3TextReader(new S3Client({}), bucket),
    minter: new StsStageSessionMinter(new STSClient({}), roleArn),
    secrets: new AwsSecretsProvider(new SecretsManagerClient({}), new SSMClient({}), (arn) => isSystemSecretArn(arn, systemSecretArns)),
    bucketArn: `arn:${partitionOf(roleArn)}:s3:::${bucket}`,
    systemSecretArns,
    now: Date.now,
  };
}

let deps: StageCredentialsDeps | undefined;

export async function handler(input: StageCredentialsInput): Promise<StageAccess> {
  deps ??= depsFromEnvironment();
  try {
    return await issueStageAccess(input, deps);
  } catch (error) {
    // Name and message only (they never hold the token or a value).
    logger.warn('stage access refused', { errorName: (error as Error).name, message: (error as Error).message });
    throw error;
  }
}
