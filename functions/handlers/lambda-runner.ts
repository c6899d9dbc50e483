/**
 * The Lambda runner: runs one planned stage inside this function's /tmp.
 * Step Functions invokes it (`lambda:invoke`) with
 * `{ buildId, stageName, planKey, fromFork?, grant }`; it returns the StageResult,
 * or throws `StageTimeout` / `OutOfDisk`, which the state machine catches to
 * escalate the stage to Fargate. The logic is `runLambdaStage`
 * (runner/lambda-run.ts); this file wires the AWS clients and Powertools.
 *
 * The function's own role may only invoke StageCredentials (the stage's commands run as
 * this function's user and can read its credentials from /proc): every invocation trades
 * its grant for an S3 session scoped to its build and stage, and for its declared
 * secrets, and builds its S3 client from that session. At the start and the end of every
 * invocation it kills every process of its user except the runtime (runner/stray-processes.ts).
 *
 * Environment:
 * - ARTIFACT_BUCKET: the artifact bucket (required);
 * - STAGE_CREDENTIALS_FUNCTION: the StageCredentials function's name or ARN (required);
 * - EPHEMERAL_STORAGE_MB: the function's /tmp size (default 512);
 * - RUNNER_TMP_DIR: replaces /tmp (the local Lambda executor points it at its own directory);
 * - AWS_LAMBDA_RUNTIME_API: set by Lambda; only then are leftover processes swept
 *   (anywhere else the same uid runs unrelated processes).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { LambdaStageAccessSource } from '../adapters/aws/lambda-stage-access-source.js';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { RUNNER_S3_REQUEST_HANDLER } from '../adapters/aws/s3-http-timeouts.js';
import { S3RequestCounter } from '../adapters/aws/s3-request-counter.js';
import type { StageResult } from '../domain/report/types.js';
import type { StageAccessSource } from '../ports/stage-access.js';
import { runLambdaStage, type LambdaRunnerEvent } from '../runner/lambda-run.js';
import { StageSession } from '../runner/stage-session.js';
import { sweepStrayProcesses } from '../runner/stray-processes.js';

export type { LambdaRunnerEvent } from '../runner/lambda-run.js';

/**
 * This execution environment's INIT phase, as far as the process can see it: from the process's
 * start (performance.timeOrigin) to the end of this module's evaluation. Lambda bills INIT for
 * on-demand functions on managed runtimes since 2025-08-01 (the REPORT line's Init Duration);
 * the runtime's own start before Node begins is not visible here and is not counted.
 */
const INIT_DURATION_MS = performance.now();

export interface LambdaRunnerHandlerOptions {
  env?: NodeJS.ProcessEnv;
  /** How the runner reaches StageCredentials (default: Lambda Invoke of STAGE_CREDENTIALS_FUNCTION). */
  stageAccess?: StageAccessSource;
  /** Extra S3 client settings (tests: an s3rver endpoint); the credentials are always the stage session's. */
  s3Config?: Omit<S3ClientConfig, 'credentials'>;
  logger?: Logger;
  /** Where the stage's live log goes (default stdout, i.e. CloudWatch Logs). */
  output?: NodeJS.WritableStream;
  /** Replaces the sweep of leftover processes (default: the real sweep, on Lambda only). */
  sweepProcesses?: (when: 'start' | 'end') => Promise<void>;
  /** Ends the runtime process (default `process.exit(1)` once the error is reported); tests replace it. */
  exitRuntime?: () => void;
  /** The INIT phase to bill to the first invocation (default: measured at this module's load). */
  initDurationMs?: number;
}

/** The event has no grant: the state machine must pass `$.stage.grant`. */
export class MissingGrant extends Error {
  override readonly name = 'MissingGrant';
}

export function createLambdaRunnerHandler(options: LambdaRunnerHandlerOptions = {}) {
  const env = options.env ?? process.env;
  const logger = options.logger ?? new Logger({ serviceName: 'buildfarm-lambda-runner' });
  // The Lambda client is made once per sandbox; the S3 client per invocation (its credentials are the stage's).
  let stageAccess = options.stageAccess;
  /** INIT is billed to the environment's first invocation only. */
  let initDurationMs = options.initDurationMs ?? INIT_DURATION_MS;

  function source(): StageAccessSource {
    if (stageAccess === undefined) {
      const name = env.STAGE_CREDENTIALS_FUNCTION;
      if (!name) throw new Error('STAGE_CREDENTIALS_FUNCTION is not set');
      stageAccess = new LambdaStageAccessSource(new LambdaClient({}), name);
    }
    return stageAccess;
  }

  const sweepProcesses =
    options.sweepProcesses ??
    (env.AWS_LAMBDA_RUNTIME_API
      ? async (when: 'start' | 'end') => {
          const sweep = await sweepStrayProcesses(when);
          logger.info('leftover processes swept', { when, killed: sweep.killed.length });
        }
      : undefined);

  async function runStageInLambda(event: LambdaRunnerEvent, context: Context): Promise<StageResult> {
    // Lambda bills the invocation from the event's delivery: start the clock before anything else.
    const invocation = { startedAt: Date.now(), initDurationMs };
    initDurationMs = 0;
    logger.appendKeys({ buildId: event.buildId, stage: event.stageName });
    try {
      const bucket = env.ARTIFACT_BUCKET;
      if (!bucket) throw new Error('ARTIFACT_BUCKET is not set');
      if (!event.grant) throw new MissingGrant(`the event for stage "${event.stageName}" carries no grant`);
      // Swept before the grant is used, so nothing left from an earlier build sees this one's session.
      await sweepProcesses?.('start');
      const session = await StageSession.open(source(), event.grant);
      const requests = new S3RequestCounter();
      // Timeouts first, so a stalled S3 connection fails fast (s3-http-timeouts.ts); a test's s3Config may replace them.
      const s3 = requests.attach(new S3Client({ requestHandler: RUNNER_S3_REQUEST_HANDLER, ...options.s3Config, credentials: session.credentialProvider }));
      const result = await runLambdaStage(event, context, {
        store: new S3ArtifactStore(s3, bucket),
        invocation,
        s3Requests: () => requests.snapshot(),
        secrets: session.secretsProvider(),
        now: Date.now,
        tmpRoot: env.RUNNER_TMP_DIR || '/tmp',
        ephemeralStorageMB: Number(env.EPHEMERAL_STORAGE_MB ?? 512) || 512,
        output: options.output,
        sweepProcesses,
      });
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
      if ((error as Error).name === 'StrayProcessesSurvived') {
        // A process of the stage outlived the sweep: this sandbox must not serve another build (a
        // survivor could wait on the runtime API for the next event and its grant). Ending the
        // runtime makes Lambda discard the execution environment instead of reusing it
        // (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html, Runtime.ExitError).
        logger.error('leftover processes survived the sweep: ending this execution environment');
        (options.exitRuntime ?? (() => setTimeout(() => process.exit(1), 100).unref()))();
      }
      throw error;
    } finally {
      logger.removeKeys(['buildId', 'stage']);
    }
  }

  return middy(runStageInLambda).use(injectLambdaContext(logger));
}

export const handler = createLambdaRunnerHandler();
