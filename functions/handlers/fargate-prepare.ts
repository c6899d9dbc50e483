/**
 * `fargate-prepare`: the Step Functions task before `ecs:runTask.sync`.
 *
 * It makes sure the stage's task definition exists (one per image, architecture
 * and root choice, reused across builds) and the helper bundle is in the bucket,
 * then returns exactly what the RunTask state passes on: the task definition ARN,
 * the overrides (size from the plan, identity of the run) and the capacity
 * provider. It reads the stage from the plan in S3 by key. Everything big stays in
 * S3; the overrides are checked against RunTask's 8,192-character limit before they
 * leave.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { EcsTaskDefinitions } from '../adapters/aws/ecs-task-definitions.js';
import { HelperBundleStore } from '../adapters/aws/helper-bundle-store.js';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { helperBundleKey } from '../domain/fargate/helper-key.js';
import { DEFAULT_HELPER_IMAGE, DEFAULT_STAGE_IMAGE } from '../domain/fargate/layout.js';
import { fargateStateTimeoutSeconds } from '../domain/fargate/task-timeout.js';
import { capacityProvider, taskOverrides, type CapacityProvider, type TaskOverrides } from '../domain/fargate/overrides.js';
import { buildTaskDefinition, type TaskSettings } from '../domain/fargate/task-definition.js';
import type { Plan, PlannedStage } from '../domain/plan/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

/** A Step Functions error as a Catch puts it in the state. */
export interface CaughtError {
  Error: string;
  Cause?: string;
}

/**
 * The state's input (statemachines/build.asl.json, `Prepare Fargate task`): keys only.
 * The stage's size, image and root choice come from the plan in S3, so nothing large
 * or user-controlled travels through the execution.
 */
export interface FargatePrepareInput {
  buildId: string;
  stageName: string;
  /** `builds/{buildId}/plan.json`. */
  planKey: string;
  /** Set when a Lambda stage is escalated to Fargate (it then runs at the plan's escalation size). */
  escalation?: CaughtError | null;
  /** A pull request from a fork: the helpers give its stage no secrets. */
  fromFork?: boolean;
  /** The stage's grant token (`$.stage.grant`), passed to the fetch and publish containers only. */
  grant?: string;
}

/**
 * The state's output (the lambda:invoke `Payload`), matching `FargatePrepared` in
 * handlers/build-state-machine.ts: `Run Fargate task` passes `taskDefinitionArn`,
 * `capacityProvider` and `overrides` to `ecs:runTask.sync`.
 */
export interface FargatePrepareOutput {
  taskDefinitionArn: string;
  /** `FARGATE_SPOT` when the stage opted in, else `FARGATE`; the state machine falls back to `FARGATE`. */
  capacityProvider: CapacityProvider;
  /** RunTask overrides, PascalCase, at most 8,192 characters. */
  overrides: TaskOverrides;
  /** The hashed family, for logs. */
  family: string;
  /** The image the build container runs. */
  image: string;
  /** How long `Run Fargate task` waits (TimeoutSecondsPath): the stage's timeout plus the task's overhead. */
  timeoutSeconds: number;
}

/** The input or the plan lacks what the task needs: a wiring error, not a stage failure. */
export class InvalidPrepareInput extends Error {
  override readonly name = 'InvalidPrepareInput';
}

export interface FargatePrepareDeps {
  taskDefinitions: Pick<EcsTaskDefinitions, 'ensure'>;
  helperBundles: Pick<HelperBundleStore, 'ensure'>;
  store: Pick<ArtifactStore, 'getText'>;
  settings: TaskSettings;
  /** The bundled helper's code (read once per container). */
  helperCode: () => Promise<Buffer>;
}

function validate(input: FargatePrepareInput): void {
  const missing = (['buildId', 'stageName', 'planKey', 'grant'] as const).filter(
    (field) => typeof input?.[field] !== 'string' || input[field] === '',
  );
  if (missing.length > 0) throw new InvalidPrepareInput(`missing ${missing.join(', ')}`);
}

async function plannedStage(input: FargatePrepareInput, store: FargatePrepareDeps['store']): Promise<PlannedStage> {
  const text = await store.getText(input.planKey);
  if (text === undefined) throw new InvalidPrepareInput(`no plan at ${input.planKey}`);
  const plan = JSON.parse(text) as Plan;
  const stage = plan.stages?.find((s) => s.name === input.stageName);
  if (!stage) throw new InvalidPrepareInput(`stage "${input.stageName}" is not in ${input.planKey}`);
  const size = stage.fargate;
  if (!size || !Number.isInteger(size.cpu) || !Number.isInteger(size.memory)) {
    throw new InvalidPrepareInput(`stage "${input.stageName}" has no Fargate size in ${input.planKey}`);
  }
  return stage;
}

export async function prepareFargateTask(
  input: FargatePrepareInput,
  deps: FargatePrepareDeps,
): Promise<FargatePrepareOutput> {
  validate(input);
  const stage = await plannedStage(input, deps.store);
  const image = stage.image ?? DEFAULT_STAGE_IMAGE;
  const code = await deps.helperCode();
  const helperKey = helperBundleKey(code);
  const request = buildTaskDefinition(deps.settings, {
    image,
    architecture: stage.fargate.architecture ?? 'x86_64',
    runAsRoot: stage.runAsRoot === true,
  });
  // Built first: an oversized override fails before anything is registered or uploaded.
  const overrides = taskOverrides(stage.fargate, {
    buildId: input.buildId,
    stageName: input.stageName,
    planKey: input.planKey,
    helperKey,
    fromFork: input.fromFork === true,
    grant: input.grant!,
    liveLog: Object.keys(stage.secrets ?? {}).length === 0,
    ...(stage.logLimitBytes !== undefined ? { logLimitBytes: stage.logLimitBytes } : {}),
  });
  const [ensured] = await Promise.all([
    deps.taskDefinitions.ensure(request),
    deps.helperBundles.ensure(helperKey, code),
  ]);
  return {
    taskDefinitionArn: ensured.taskDefinitionArn,
    capacityProvider: capacityProvider(stage.fargate.spot === true),
    overrides,
    family: ensured.family,
    image,
    timeoutSeconds: fargateStateTimeoutSeconds(stage.timeoutSeconds),
  };
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

/** Wiring from the function's environment (set in template.yaml). */
export function depsFromEnvironment(): FargatePrepareDeps {
  const region = requiredEnv('AWS_REGION');
  const bucket = requiredEnv('ARTIFACT_BUCKET');
  // The template bundles runner/fargate-helper.ts beside handlers/fargate-prepare.ts (two EntryPoints).
  const helperPath =
    process.env.HELPER_BUNDLE_PATH ?? join(process.env.LAMBDA_TASK_ROOT ?? process.cwd(), 'runner', 'fargate-helper.js');
  let code: Promise<Buffer> | undefined;
  const s3 = new S3Client({ region });
  return {
    taskDefinitions: new EcsTaskDefinitions(new ECSClient({ region })),
    helperBundles: new HelperBundleStore(s3, bucket),
    store: new S3ArtifactStore(s3, bucket),
    settings: {
      region,
      bucket,
      executionRoleArn: requiredEnv('TASK_EXECUTION_ROLE_ARN'),
      taskRoleArn: requiredEnv('TASK_ROLE_ARN'),
      logGroup: requiredEnv('TASK_LOG_GROUP'),
      helperImage: process.env.HELPER_IMAGE || DEFAULT_HELPER_IMAGE,
      stageCredentialsFunction: requiredEnv('STAGE_CREDENTIALS_FUNCTION'),
    },
    helperCode: () => (code ??= readFile(helperPath)),
  };
}

let deps: FargatePrepareDeps | undefined;

export async function handler(input: FargatePrepareInput): Promise<FargatePrepareOutput> {
  deps ??= depsFromEnvironment();
  return prepareFargateTask(input, deps);
}
