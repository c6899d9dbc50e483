/**
 * What both helper modes (fetch and publish) know of their task: the environment the task
 * definition and the RunTask overrides set, the files they hand each other on the helper
 * volume, and the stage they read from the plan.
 */
import { join } from 'node:path';
import type { CacheScope } from '../../domain/cache/scope.js';
import type { ScriptPaths } from '../../domain/fargate/stage-script.js';
import { ENV, HELPER_PATH, HOME_PATH, LOGS_PATH, WORKSPACE_PATH } from '../../domain/fargate/layout.js';
import type { PlannedStage } from '../../domain/plan/types.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { PlanMissing, StageNotInPlan } from '../errors.js';
import { readStageSlice } from '../planned-stage.js';
import { HelperMisconfigured } from '../task-metadata-endpoint.js';

/** What both modes read from their environment (task definition plus RunTask overrides). */
export interface HelperContext {
  buildId: string;
  stageName: string;
  planKey: string;
  workspace: string;
  workspaceUid: number;
  /** A pull request from a fork: its stage gets no secrets. */
  fromFork: boolean;
  /** The helper volume (scripts, helper code), /buildfarm in the task. */
  helperDir: string;
  /** The logs volume, /buildfarm-logs in the task. */
  logsDir: string;
  /** The HOME volume (layout.ts HOME_PATH), where the cache of `~/...` paths is restored and saved. */
  homeDir?: string;
}

export function scriptPaths(context: HelperContext): ScriptPaths {
  return {
    workspace: context.workspace,
    commandsScript: join(context.helperDir, 'commands.sh'),
    logFile: join(context.logsDir, 'log.txt'),
    exitCodeFile: join(context.logsDir, 'exit-code'),
    secretsDir: join(context.logsDir, 'secrets'),
  };
}

/** Where fetch leaves the secret values' hashes for publish (see layout.ts SECRET_HASHES_FILE). */
export function secretHashesFile(context: HelperContext): string {
  return join(context.helperDir, 'secret-hashes.json');
}

/** The reserve fetch sets aside on the task's storage (layout.ts DISK_RESERVE_FILE). */
export function diskReserveFile(context: HelperContext): string {
  return join(context.helperDir, 'disk-reserve');
}

/** Fetch's S3 request count, handed to publish (which writes the result record) on the helper volume. */
export function fetchRequestsFile(context: HelperContext): string {
  return join(context.helperDir, 's3-requests-fetch.json');
}

/** Where fetch notes its start time for publish (the result's startedAt). */
export function startedFile(context: HelperContext): string {
  return join(context.helperDir, 'started-at');
}

export function contextFromEnv(env: NodeJS.ProcessEnv): HelperContext {
  const missing = [ENV.buildId, ENV.stage, ENV.planKey].filter((name) => !env[name]);
  if (missing.length > 0) throw new HelperMisconfigured(`missing ${missing.join(', ')}`);
  return {
    buildId: env[ENV.buildId]!,
    stageName: env[ENV.stage]!,
    planKey: env[ENV.planKey]!,
    workspace: env[ENV.workspace] || WORKSPACE_PATH,
    workspaceUid: Number(env[ENV.workspaceUid] ?? '65534'),
    fromFork: env[ENV.fromFork] === 'true',
    helperDir: HELPER_PATH,
    logsDir: LOGS_PATH,
    homeDir: HOME_PATH,
  };
}

export async function readPlanned(context: HelperContext, store: ArtifactStore): Promise<{ stage: PlannedStage; cacheScope?: CacheScope }> {
  try {
    const slice = await readStageSlice(store, context.planKey, context.stageName);
    return { stage: slice.stage, ...(slice.cacheScope ? { cacheScope: slice.cacheScope } : {}) };
  } catch (error) {
    if (error instanceof PlanMissing || error instanceof StageNotInPlan) throw new HelperMisconfigured(error.message);
    throw error;
  }
}
