/**
 * What the `ecs:runTask.sync` state passes to RunTask for one stage, in the
 * PascalCase the Step Functions ECS integration takes.
 * https://docs.aws.amazon.com/step-functions/latest/dg/connect-ecs.html
 *
 * Only small values travel here: RunTask rejects overrides longer than 8,192
 * characters in total (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskOverride.html),
 * so the stage's commands and environment stay in the plan in S3 and the fetch
 * helper reads them from there by key.
 */
import type { FargateSize } from '../plan/types.js';
import { BUILD_CONTAINER, ENV, FETCH_CONTAINER, LIVE_LOG_CONTAINER, PUBLISH_CONTAINER } from './layout.js';

export const MAX_OVERRIDES_CHARACTERS = 8192;
/** Fargate's ephemeral storage without an override; the override accepts 21 to 200. */
export const DEFAULT_EPHEMERAL_STORAGE_GIB = 20;
export const MAX_EPHEMERAL_STORAGE_GIB = 200;

export interface EnvironmentOverride {
  Name: string;
  Value: string;
}

export interface ContainerOverride {
  Name: string;
  Environment: EnvironmentOverride[];
}

export interface TaskOverrides {
  /** CPU units as a string, as RunTask takes them. */
  Cpu: string;
  /** MiB as a string. */
  Memory: string;
  EphemeralStorage?: { SizeInGiB: number };
  ContainerOverrides: ContainerOverride[];
}

/** The identity of one stage run, as the helpers need it. */
export interface StageRunRef {
  buildId: string;
  stageName: string;
  planKey: string;
  /** Where the helper bundle is in the bucket. */
  helperKey: string;
  /** A pull request from a fork: the helpers give its stage no secrets. */
  fromFork: boolean;
  /** The stage's grant token, for the fetch and publish helpers to trade with StageCredentials. */
  grant: string;
  /** Print the build's output live to CloudWatch Logs: false for a stage with secrets (nothing could mask them there). */
  liveLog: boolean;
  /** The stage's `log-limit`, bytes (the default cap when absent). */
  logLimitBytes?: number;
}

/** The overrides are too long for RunTask: a value that should travel through S3 was put in them. */
export class OverridesTooLarge extends Error {
  override readonly name = 'OverridesTooLarge';
  constructor(readonly characters: number) {
    super(`RunTask overrides are ${characters} characters, above the ${MAX_OVERRIDES_CHARACTERS} limit`);
  }
}

/** An ephemeral storage size RunTask would reject. */
export class InvalidTaskSize extends Error {
  override readonly name = 'InvalidTaskSize';
}

function ephemeralStorage(sizeGiB: number): TaskOverrides['EphemeralStorage'] {
  if (!Number.isInteger(sizeGiB) || sizeGiB < DEFAULT_EPHEMERAL_STORAGE_GIB || sizeGiB > MAX_EPHEMERAL_STORAGE_GIB) {
    throw new InvalidTaskSize(`ephemeral storage ${sizeGiB} GiB is outside 20 to ${MAX_EPHEMERAL_STORAGE_GIB}`);
  }
  // 20 GiB is what every task gets anyway, and the override's minimum is 21.
  return sizeGiB > DEFAULT_EPHEMERAL_STORAGE_GIB ? { SizeInGiB: sizeGiB } : undefined;
}

export function taskOverrides(size: FargateSize, run: StageRunRef): TaskOverrides {
  const identity: EnvironmentOverride[] = [
    { Name: ENV.buildId, Value: run.buildId },
    { Name: ENV.stage, Value: run.stageName },
    { Name: ENV.planKey, Value: run.planKey },
    { Name: ENV.fromFork, Value: String(run.fromFork) },
  ];
  const grant: EnvironmentOverride = { Name: ENV.grant, Value: run.grant };
  const storage = ephemeralStorage(size.ephemeralStorageGiB);
  const overrides: TaskOverrides = {
    Cpu: String(size.cpu),
    Memory: String(size.memory),
    ...(storage ? { EphemeralStorage: storage } : {}),
    ContainerOverrides: [
      { Name: FETCH_CONTAINER, Environment: [...identity, grant, { Name: ENV.helperKey, Value: run.helperKey }] },
      // The build's commands and environment come from the plan (by key), never from here; nor
      // does the grant: containers of a task do not share a PID namespace, and the task metadata
      // endpoint does not show environments, so the user's commands never see the token.
      { Name: BUILD_CONTAINER, Environment: [{ Name: ENV.stage, Value: run.stageName }] },
      {
        Name: LIVE_LOG_CONTAINER,
        Environment: [
          { Name: ENV.logLive, Value: String(run.liveLog) },
          ...(run.logLimitBytes !== undefined ? [{ Name: ENV.logLimitBytes, Value: String(run.logLimitBytes) }] : []),
        ],
      },
      { Name: PUBLISH_CONTAINER, Environment: [...identity, grant] },
    ],
  };
  assertOverridesFit(overrides);
  return overrides;
}

/** Throws `OverridesTooLarge` when RunTask would reject the overrides for their length. */
export function assertOverridesFit(overrides: TaskOverrides): void {
  const characters = JSON.stringify(overrides).length;
  if (characters > MAX_OVERRIDES_CHARACTERS) throw new OverridesTooLarge(characters);
}

export type CapacityProvider = 'FARGATE' | 'FARGATE_SPOT';

/**
 * Spot when the stage opted in, on-demand otherwise. The state machine passes it as a
 * one-item CapacityProviderStrategy and retries with `FARGATE` when Spot has no capacity.
 * Spot takes X86_64 tasks, and ARM64 tasks on platform 1.4.0 or later (the default, LATEST):
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CapacityProviderStrategyItem.html
 */
export function capacityProvider(spot: boolean): CapacityProvider {
  return spot ? 'FARGATE_SPOT' : 'FARGATE';
}
