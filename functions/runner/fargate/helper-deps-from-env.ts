import { join } from 'node:path';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaStageAccessSource } from '../../adapters/aws/lambda-stage-access-source.js';
import { S3ArtifactStore } from '../../adapters/aws/s3-artifact-store.js';
import { RUNNER_S3_REQUEST_HANDLER } from '../../adapters/aws/s3-http-timeouts.js';
import { S3RequestCounter } from '../../adapters/aws/s3-request-counter.js';
import { ENV, LOGS_PATH } from '../../domain/fargate/layout.js';
import { manifestKey, stageLogKey, stageResultKey } from '../../domain/storage-keys.js';
import { findArtifacts, uploadArtifacts } from '../artifacts.js';
import { readContainerUsage, USAGE_FILE } from '../container-usage.js';
import { StageLog } from '../stage-log.js';
import { StageSession } from '../stage-session.js';
import { fetchTaskMetadata, HelperMisconfigured } from '../task-metadata-endpoint.js';
import { prepareWorkspace } from '../workspace.js';
import type { HelperDeps } from './helper-deps.js';

/**
 * The real pieces: the stage agent's workspace and artifact code on the S3 artifact store,
 * through the stage's own session. The task role can do nothing but invoke StageCredentials
 * (and read the helper bundle), because every container of the task, the build container
 * included, can fetch its credentials; the helpers trade the stage's grant (in their own
 * overrides, never the build container's) for an S3 session scoped to the stage and for
 * its declared secrets. Publish asks afresh when it starts, so a stage longer than a
 * session (at most an hour) still publishes.
 */
export async function helperDepsFromEnv(env: NodeJS.ProcessEnv): Promise<HelperDeps> {
  const bucket = env[ENV.bucket];
  const region = env[ENV.region];
  const grant = env[ENV.grant];
  const functionName = env[ENV.stageCredentialsFunction];
  if (!bucket || !region) throw new HelperMisconfigured(`${ENV.bucket} and ${ENV.region} must be set`);
  if (!grant || !functionName) throw new HelperMisconfigured(`${ENV.grant} and ${ENV.stageCredentialsFunction} must be set`);
  // Lines go to stdout (the awslogs driver ships them to CloudWatch) and to a file on the logs volume.
  const log = new StageLog(join(LOGS_PATH, `${env[ENV.mode] ?? 'helper'}.txt`), process.stdout);
  const session = await StageSession.open(new LambdaStageAccessSource(new LambdaClient({ region }), functionName), grant);
  const requests = new S3RequestCounter();
  // The bootstrap's signed GetObject of this helper (domain/fargate/bootstrap.ts), retries included.
  for (let i = 0; i < (Number(env[ENV.helperDownloads]) || 0); i += 1) requests.record('GetObjectCommand');
  return {
    store: new S3ArtifactStore(requests.attach(new S3Client({ region, credentials: session.credentialProvider, requestHandler: RUNNER_S3_REQUEST_HANDLER })), bucket),
    s3Requests: () => requests.snapshot(),
    secrets: session.secretsProvider(),
    prepareWorkspace,
    findArtifacts,
    uploadArtifacts,
    keys: { stageLogKey, manifestKey, stageResultKey },
    log,
    now: Date.now,
    taskMetadata: () => fetchTaskMetadata(env),
    containerUsage: () => readContainerUsage(USAGE_FILE),
  };
}
