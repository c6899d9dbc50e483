/**
 * `fargate-prepare`: the Step Functions task before `ecs:runTask.sync`.
 *
 * It makes sure the stage's task definition exists (one per image, architecture
 * and root choice, reused across builds) and the helper bundle is in the bucket,
 * then returns exactly what the RunTask state passes on: the task definition ARN,
 * the overrides (size from the plan, identity of the run) and the capacity provider
 * strategies (Spot when the stage opted in, and the on-demand fallback). Everything
 * big stays in S3; the overrides are checked against RunTask's 8,192-character limit
 * before they leave.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { EcsTaskDefinitions } from '../adapters/aws/ecs-task-definitions.js';
import { HelperBundleStore } from '../adapters/aws/helper-bundle-store.js';
import { helperBundleKey } from '../domain/fargate/helper-key.js';
import { DEFAULT_HELPER_IMAGE, DEFAULT_STAGE_IMAGE } from '../domain/fargate/layout.js';
import { capacityProviderStrategy, taskOverrides } from '../domain/fargate/overrides.js';
import { buildTaskDefinition, type TaskSettings } from '../domain/fargate/task-definition.js';
import type { FargatePrepareEvent, FargatePrepareOutput } from './build-state-machine.js';

/**
 * The state's input: `Prepare Fargate task` in statemachines/build.asl.json sends the stage's
 * identity and the plan fields that shape its task (size, image, root choice); commands and
 * environment stay in the plan in S3, where the helpers read them by `planKey`.
 */
export type FargatePrepareInput = FargatePrepareEvent;

/**
 * The state's output (the lambda:invoke `Payload`), named as the `ecs:runTask.sync` parameters
 * it feeds; the state keeps TaskDefinition, Overrides and both capacity provider strategies.
 */
export type { FargatePrepareOutput };

/** The input lacks what the task needs: a wiring error, not a stage failure. */
export class InvalidPrepareInput extends Error {
  override readonly name = 'InvalidPrepareInput';
}

export interface FargatePrepareDeps {
  taskDefinitions: Pick<EcsTaskDefinitions, 'ensure'>;
  helperBundles: Pick<HelperBundleStore, 'ensure'>;
  settings: TaskSettings;
  /** The bundled helper's code (read once per container). */
  helperCode: () => Promise<Buffer>;
}

function validate(input: FargatePrepareInput): void {
  const missing = (['buildId', 'stageName', 'planKey'] as const).filter(
    (field) => typeof input?.[field] !== 'string' || input[field] === '',
  );
  if (missing.length > 0) throw new InvalidPrepareInput(`missing ${missing.join(', ')}`);
  const size = input.fargate;
  if (!size || !Number.isInteger(size.cpu) || !Number.isInteger(size.memory) || !Number.isInteger(size.ephemeralStorageGiB)) {
    throw new InvalidPrepareInput(`stage "${input.stageName}" has no Fargate size (cpu, memory, ephemeralStorageGiB)`);
  }
}

export async function prepareFargateTask(
  input: FargatePrepareInput,
  deps: FargatePrepareDeps,
): Promise<FargatePrepareOutput> {
  validate(input);
  // A stage without an image is a Lambda stage escalated to Fargate.
  const image = input.image || DEFAULT_STAGE_IMAGE;
  const code = await deps.helperCode();
  const helperKey = helperBundleKey(code);
  const request = buildTaskDefinition(deps.settings, {
    image,
    architecture: input.fargate.architecture ?? 'x86_64',
    runAsRoot: input.runAsRoot === true,
  });
  // Built first: an oversized override fails before anything is registered or uploaded.
  const overrides = taskOverrides(input.fargate, {
    buildId: input.buildId,
    stageName: input.stageName,
    planKey: input.planKey,
    helperKey,
    fromFork: input.fromFork === true,
  });
  const [ensured] = await Promise.all([
    deps.taskDefinitions.ensure(request),
    deps.helperBundles.ensure(helperKey, code),
  ]);
  return {
    TaskDefinition: ensured.taskDefinitionArn,
    Overrides: overrides,
    CapacityProviderStrategy: capacityProviderStrategy(input.fargate.spot === true),
    FallbackCapacityProviderStrategy: capacityProviderStrategy(false),
    Family: ensured.family,
    Image: image,
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
    settings: {
      region,
      bucket,
      executionRoleArn: requiredEnv('TASK_EXECUTION_ROLE_ARN'),
      taskRoleArn: requiredEnv('TASK_ROLE_ARN'),
      logGroup: requiredEnv('TASK_LOG_GROUP'),
      helperImage: process.env.HELPER_IMAGE || DEFAULT_HELPER_IMAGE,
    },
    helperCode: () => (code ??= readFile(helperPath)),
  };
}

let deps: FargatePrepareDeps | undefined;

export async function handler(input: FargatePrepareInput): Promise<FargatePrepareOutput> {
  deps ??= depsFromEnvironment();
  return prepareFargateTask(input, deps);
}
