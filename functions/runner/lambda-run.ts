/**
 * What the Lambda runner does, with its world injected (the handler only
 * wires AWS clients in): load the plan, clean /tmp, run the stage with a
 * deadline that leaves room to stop and upload before Lambda's own timeout,
 * and throw `StageTimeout`/`OutOfDisk` so the state machine escalates the
 * stage to Fargate. Every other outcome is returned as the StageResult.
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageResult } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SecretsProvider } from '../ports/secrets.js';
import { withAttemptUsage } from '../domain/report/attempt-usage.js';
import type { S3RequestCount } from '../domain/report/cost-model.js';
import { runStage } from './agent.js';
import { failureFromName, PlanMissing, StageNotInPlan } from './errors.js';
import { readStageSlice } from './planned-stage.js';
import type { StageSandbox } from './sandbox.js';

/** The state machine's input to the Lambda runner task. */
export interface LambdaRunnerEvent {
  buildId: string;
  stageName: string;
  /** Key of the build's plan.json in the artifact bucket. */
  planKey: string;
  /** The build is a pull request from a fork: its stages get no secrets. */
  fromFork?: boolean;
  /**
   * The stage's grant token (Select stages mints it): the runner trades it with
   * StageCredentials for this stage's S3 session and declared secrets. Its own role
   * can do nothing else.
   */
  grant?: string;
}

/** The part of the Lambda context the runner reads. */
export interface RunnerContext {
  getRemainingTimeInMillis(): number;
  /** The function's configured memory, MB. */
  memoryLimitInMB?: string | number;
}

export interface LambdaRunnerDeps {
  store: ArtifactStore;
  secrets: SecretsProvider;
  now: () => number;
  /** Lambda's writable disk, wiped before and after each run (`/tmp`). */
  tmpRoot: string;
  /** The function's /tmp size, MB (EPHEMERAL_STORAGE_MB). */
  ephemeralStorageMB: number;
  /** Time kept back from the invocation's remaining time to stop the tree and upload the log and result. */
  safetyMarginMs?: number;
  output?: NodeJS.WritableStream;
  /** Local farm only: the build was stopped. (On AWS, StopExecution ends the invocation's wait, not the function.) */
  signal?: AbortSignal;
  /**
   * On Lambda: kills every process of the sandbox's user but the runtime, and throws if one
   * survives (runner/stray-processes.ts). Called here after the stage, before /tmp is
   * emptied; the handler calls it with 'start' before it even opens the stage's session.
   */
  sweepProcesses?: (when: 'start' | 'end') => Promise<void>;
  /** Local farm only: the bubblewrap sandbox for the commands (Lambda has no namespaces to give). */
  sandbox?: StageSandbox;
  /**
   * The invocation as Lambda bills it: when the handler started (before the sweep and the
   * session) and the INIT phase of this execution environment if this is its first invocation.
   * Absent: billed from this function's own start.
   */
  invocation?: { startedAt: number; initDurationMs: number };
  /** The S3 requests the invocation's client has made so far. */
  s3Requests?: () => S3RequestCount;
  /** Local farm only: the Lambda-like runtime environment the commands start from (see StageJob.runtimeEnv). */
  runtimeEnv?: Readonly<Record<string, string>>;
  /**
   * Local farm only: takes the stage's work folder (the local executor renames it away, to delete
   * it while the next stage runs and, for `buildfarm run`, move its artifacts out for the export:
   * local/retired-work-folders.ts), after a stage that returned its result, its processes swept,
   * before /tmp is emptied. On AWS /tmp is emptied in place.
   */
  takeWorkFolder?: (workRoot: string, result: StageResult) => Promise<void>;
}

/** 10 s: the kill grace (2 s) plus uploading the log, manifest and result, with room to spare. */
export const DEFAULT_SAFETY_MARGIN_MS = 10_000;

/**
 * Memory left to the agent itself (Node, the SDK, upload buffers): the stage's
 * processes are stopped above `memory - reserve`, so the agent can still report
 * OutOfMemory instead of Lambda killing the whole sandbox.
 */
export const AGENT_MEMORY_RESERVE_MB = 192;

/** Errors that send a Lambda stage to Fargate: the Step Functions Catch matches these names. */
const ESCALATING = new Set(['StageTimeout', 'OutOfDisk']);

export async function runLambdaStage(
  event: LambdaRunnerEvent,
  context: RunnerContext,
  deps: LambdaRunnerDeps,
): Promise<StageResult> {
  const margin = deps.safetyMarginMs ?? DEFAULT_SAFETY_MARGIN_MS;
  const startedAt = deps.now();
  const invocation = deps.invocation ?? { startedAt, initDurationMs: 0 };
  const lambdaDeadline = startedAt + context.getRemainingTimeInMillis() - margin;

  const { stage, cacheScope } = await readStageSlice(deps.store, event.planKey, event.stageName);
  // The stage's own timeout applies on Lambda too. Only Lambda's limit escalates to Fargate:
  // a stage that used up its own timeout would use it up on Fargate as well.
  const stageDeadline = startedAt + stage.timeoutSeconds * 1000;
  const deadline = Math.min(lambdaDeadline, stageDeadline);
  const escalating = stageDeadline < lambdaDeadline ? new Set(['OutOfDisk']) : ESCALATING;

  // A warm sandbox keeps /tmp: whatever an earlier invocation left (even one Lambda cut short) goes first.
  await emptyDirectory(deps.tmpRoot);
  const memoryMB = Number(context.memoryLimitInMB ?? 0);
  const workRoot = join(deps.tmpRoot, 'work');
  let returned: StageResult | undefined;
  try {
    const result = await runStage(
      {
        buildId: event.buildId,
        stage,
        runner: 'lambda',
        workRoot,
        deadline,
        diskLimitMiB: deps.ephemeralStorageMB,
        memoryLimitMiB: memoryMB > AGENT_MEMORY_RESERVE_MB ? memoryMB - AGENT_MEMORY_RESERVE_MB : undefined,
        fromFork: event.fromFork,
        signal: deps.signal,
        sandbox: deps.sandbox,
        invocation,
        runtimeEnv: deps.runtimeEnv,
        ...(cacheScope ? { cacheScope } : {}),
      },
      { store: deps.store, secrets: deps.secrets, now: deps.now, output: deps.output, s3Requests: deps.s3Requests },
    );
    if (result.errorName !== undefined && escalating.has(result.errorName)) {
      // The Fargate run overwrites this attempt's result: its error carries what it used, to be billed.
      const usage = {
        durationMs: Math.max(0, deps.now() - invocation.startedAt),
        initDurationMs: invocation.initDurationMs,
        ...(deps.s3Requests ? { s3Requests: deps.s3Requests() } : {}),
        ...(result.logBytes !== undefined ? { logBytes: result.logBytes } : {}),
      };
      throw failureFromName(result.errorName, withAttemptUsage(result.reason, usage), result.exitCode);
    }
    returned = result;
    return result;
  } finally {
    // Processes first: a survivor could otherwise write into /tmp again after it is emptied.
    try {
      await deps.sweepProcesses?.('end');
      if (returned && deps.takeWorkFolder) await deps.takeWorkFolder(workRoot, returned);
    } finally {
      await emptyDirectory(deps.tmpRoot);
    }
  }
}

async function emptyDirectory(directory: string): Promise<void> {
  const entries = await readdir(directory).catch(() => [] as string[]);
  await Promise.all(entries.map((entry) => rm(join(directory, entry), { recursive: true, force: true })));
}
