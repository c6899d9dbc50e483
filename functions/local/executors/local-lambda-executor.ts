/**
 * The local Lambda executor: runs the Lambda runner's own code (runLambdaStage) the way
 * Lambda would, with the function's 15-minute limit counting down from the invocation,
 * the function's memory tier, and its /tmp quota enforced on a sandbox directory of
 * its own (so concurrent invocations never share a /tmp, as on AWS).
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { readPlannedStage } from '../../runner/planned-stage.js';
import type { StageResult } from '../../domain/report/types.js';
import { LAMBDA_MAX_TIMEOUT_SECONDS } from '../../domain/sizing/lambda-sizes.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { SecretsProvider } from '../../ports/secrets.js';
import type { StageAccessSource } from '../../ports/stage-access.js';
import { runLambdaStage, type LambdaRunnerEvent } from '../../runner/lambda-run.js';
import { StageSession } from '../../runner/stage-session.js';
import type { StageSandbox } from '../../runner/sandbox.js';
import type { CountedStore } from '../../adapters/local/counted-store.js';
import { localStageRuntimeEnv } from '../stage-environment.js';
import type { RetireWorkFolder } from '../retired-work-folders.js';

export interface LocalLambdaExecutorOptions {
  store: ArtifactStore;
  secrets: SecretsProvider;
  /**
   * StageCredentials in-process: with it, a stage with a grant gets exactly the secrets its
   * grant names (none for a fork's build), and a revoked or expired grant fails the
   * invocation, as on AWS. Without it (or without a grant) `secrets` answers directly.
   */
  stageAccess?: StageAccessSource;
  /** Where sandboxes are made (under .buildfarm/). */
  sandboxRoot: string;
  /** The runner functions' /tmp, MB (the template's LambdaEphemeralStorage). */
  ephemeralStorageMB: number;
  /** The runner functions' timeout, s (the template sets 900, Lambda's maximum). */
  functionTimeoutSeconds?: number;
  now?: () => number;
  /** The stage commands' sandbox (functions/local/sandbox-probe.ts); without it they run on the host shell. */
  sandbox?: StageSandbox;
  /** A counted store per invocation (as the function's own S3 client on AWS); without it `store`, uncounted. */
  countedStore?(): CountedStore;
  /**
   * Takes a finished stage's work folder away (renamed at once, handed over and deleted in the
   * background: retired-work-folders.ts); without it the folder is deleted before `invoke` returns.
   */
  retire?: RetireWorkFolder;
}

/**
 * Counts sandboxes across every executor of this process: each local build makes its own
 * executor, and two builds at once must never share (and clean up) one sandbox.
 */
let nextSandbox = 0;

export class LocalLambdaExecutor {

  /** Lambda's runtime environment, as the local farm gives it (stage-environment.ts). */
  private readonly runtimeEnv = localStageRuntimeEnv();

  constructor(private readonly options: LocalLambdaExecutorOptions) {}

  /**
   * Invokes the runner for one stage; throws StageTimeout/OutOfDisk as the function does.
   * `functionMemoryMB`: the memory of the function invoked (asl-definition.ts memoryOfLocalRunner);
   * without it, the tier the plan chose is read from the stage's slice.
   */
  async invoke(event: LambdaRunnerEvent, output: NodeJS.WritableStream, signal?: AbortSignal, functionMemoryMB?: number): Promise<StageResult> {
    const now = this.options.now ?? Date.now;
    // The invocation as Lambda bills it starts here. No INIT is measured locally: no runtime starts.
    const invokedAt = now();
    const timeoutMs = (this.options.functionTimeoutSeconds ?? LAMBDA_MAX_TIMEOUT_SECONDS) * 1000;
    const secrets =
      event.grant && this.options.stageAccess
        ? (await StageSession.open(this.options.stageAccess, event.grant, now)).secretsProvider()
        : this.options.secrets;
    const sandbox = join(this.options.sandboxRoot, `sandbox-${process.pid}-${nextSandbox++}`);
    await mkdir(sandbox, { recursive: true });
    const counted = this.options.countedStore?.();
    try {
      return await runLambdaStage(
        event,
        {
          getRemainingTimeInMillis: () => invokedAt + timeoutMs - now(),
          memoryLimitInMB: functionMemoryMB ?? (await this.memoryOf(event)),
        },
        {
          store: counted?.store ?? this.options.store,
          s3Requests: counted?.requests,
          invocation: { startedAt: invokedAt, initDurationMs: 0 },
          secrets,
          now,
          tmpRoot: sandbox,
          ephemeralStorageMB: this.options.ephemeralStorageMB,
          output,
          signal,
          sandbox: this.options.sandbox,
          runtimeEnv: this.runtimeEnv,
          // The stage's work folder leaves the sandbox before runLambdaStage empties it (on AWS, /tmp is emptied in place).
          ...(this.options.retire ? { takeWorkFolder: this.options.retire } : {}),
        },
      );
    } finally {
      counted?.close();
      if (this.options.retire) await this.options.retire(sandbox);
      else await rm(sandbox, { recursive: true, force: true });
    }
  }

  /** The memory tier the plan chose: on AWS it is the invoked function's configured memory. */
  private async memoryOf(event: LambdaRunnerEvent): Promise<number | undefined> {
    const stage = await readPlannedStage(this.options.store, event.planKey, event.stageName).catch(() => undefined);
    return stage?.lambda?.memoryMB;
  }
}
