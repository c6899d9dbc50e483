/**
 * The RegisterTaskDefinition request for a build task, in the ECS API's own
 * shape (camelCase, as the AWS SDK for JavaScript v3 takes it), so the adapter
 * passes it through untouched.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
 *
 * Four containers share the task's volumes:
 * - `fetch` (helper, not essential): downloads the helper, then the snapshot, the
 *   upstream artifacts and the stage's script. Its success gates the build.
 * - `build` (the stage's image, not essential): `sh` runs the generated script.
 * - `live-log` (helper, not essential, no credentials): prints the build's log file,
 *   capped, to CloudWatch Logs while the build runs (functions/runner/live-log.ts), and
 *   samples the build container's CPU and memory from the task metadata endpoint into the
 *   usage volume, which the build container does not mount (runner/container-usage.ts).
 * - `publish` (helper, essential): starts when build has stopped, whatever its exit
 *   code (COMPLETE), uploads the log, artifacts and result; the task stops with it.
 * `dependsOn` SUCCESS is not allowed on an essential container, which is why only
 * publish is essential:
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDependency.html
 */
import type { Architecture } from '../pipeline/types.js';
import { HELPER_BOOTSTRAP_JS } from './bootstrap.js';
import { taskDefinitionFamily } from './family.js';
import {
  BUILD_CONTAINER,
  ENV,
  FETCH_CONTAINER,
  HELPER_FILE,
  HELPER_PATH,
  HELPER_VOLUME,
  HOME_PATH,
  HOME_VOLUME,
  JAVA_TOOL_OPTIONS,
  LIVE_LOG_CONTAINER,
  LOGS_PATH,
  LOGS_VOLUME,
  USAGE_PATH,
  USAGE_VOLUME,
  NON_ROOT_UID,
  NON_ROOT_USER,
  PUBLISH_CONTAINER,
  STAGE_SCRIPT,
  WORKSPACE_PATH,
  WORKSPACE_VOLUME,
} from './layout.js';

/** The farm's settings a task definition depends on (template outputs, as function environment). */
export interface TaskSettings {
  region: string;
  bucket: string;
  executionRoleArn: string;
  taskRoleArn: string;
  logGroup: string;
  helperImage: string;
  /** The StageCredentials function (name or ARN) the helpers trade the stage's grant with. */
  stageCredentialsFunction: string;
}

/** What distinguishes one build task definition from another. */
export interface TaskImage {
  image: string;
  architecture: Architecture;
  runAsRoot: boolean;
}

export interface KeyValuePair {
  name: string;
  value: string;
}

export interface MountPoint {
  sourceVolume: string;
  containerPath: string;
  readOnly: boolean;
}

export interface ContainerDefinition {
  name: string;
  image: string;
  essential: boolean;
  entryPoint?: string[];
  command?: string[];
  user?: string;
  workingDirectory?: string;
  environment: KeyValuePair[];
  mountPoints: MountPoint[];
  dependsOn?: { containerName: string; condition: 'START' | 'COMPLETE' | 'SUCCESS' | 'HEALTHY' }[];
  logConfiguration: { logDriver: 'awslogs'; options: Record<string, string> };
}

export interface RegisterTaskDefinitionRequest {
  family: string;
  requiresCompatibilities: ['FARGATE'];
  networkMode: 'awsvpc';
  /** Task-level size at registration; every run overrides it with the planned size. */
  cpu: string;
  memory: string;
  runtimePlatform: { cpuArchitecture: 'X86_64' | 'ARM64'; operatingSystemFamily: 'LINUX' };
  executionRoleArn: string;
  taskRoleArn: string;
  /** Volumes without a host path live on the task's ephemeral storage and are shared by its containers. */
  volumes: { name: string }[];
  containerDefinitions: ContainerDefinition[];
}

/** The smallest valid Fargate size: a registration needs one, RunTask overrides replace it. */
export const REGISTERED_CPU = '256';
export const REGISTERED_MEMORY = '512';

function awslogs(settings: TaskSettings, prefix: string): ContainerDefinition['logConfiguration'] {
  // Streams are named {prefix}/{container}/{task id}, so a task's three logs sort together.
  return {
    logDriver: 'awslogs',
    options: {
      'awslogs-group': settings.logGroup,
      'awslogs-region': settings.region,
      'awslogs-stream-prefix': prefix,
    },
  };
}

function helperEnvironment(settings: TaskSettings, mode: 'fetch' | 'publish', workspaceUid: number): KeyValuePair[] {
  return [
    { name: ENV.mode, value: mode },
    { name: ENV.bucket, value: settings.bucket },
    { name: ENV.region, value: settings.region },
    { name: ENV.stageCredentialsFunction, value: settings.stageCredentialsFunction },
    { name: ENV.workspace, value: WORKSPACE_PATH },
    { name: ENV.workspaceUid, value: String(workspaceUid) },
  ];
}

const workspaceMount: MountPoint = { sourceVolume: WORKSPACE_VOLUME, containerPath: WORKSPACE_PATH, readOnly: false };
const homeMount: MountPoint = { sourceVolume: HOME_VOLUME, containerPath: HOME_PATH, readOnly: false };
const logsMount: MountPoint = { sourceVolume: LOGS_VOLUME, containerPath: LOGS_PATH, readOnly: false };
function usageMount(readOnly: boolean): MountPoint {
  return { sourceVolume: USAGE_VOLUME, containerPath: USAGE_PATH, readOnly };
}
function helperMount(readOnly: boolean): MountPoint {
  return { sourceVolume: HELPER_VOLUME, containerPath: HELPER_PATH, readOnly };
}

/** The container definitions of a build task, in start order. */
export function buildContainers(settings: TaskSettings, task: TaskImage): ContainerDefinition[] {
  const workspaceUid = task.runAsRoot ? 0 : NON_ROOT_UID;
  const fetch: ContainerDefinition = {
    name: FETCH_CONTAINER,
    image: settings.helperImage,
    essential: false,
    entryPoint: ['node', '-e'],
    command: [HELPER_BOOTSTRAP_JS],
    environment: helperEnvironment(settings, 'fetch', workspaceUid),
    mountPoints: [workspaceMount, helperMount(false), logsMount, homeMount],
    logConfiguration: awslogs(settings, 'stage'),
  };
  const build: ContainerDefinition = {
    name: BUILD_CONTAINER,
    image: task.image,
    essential: false,
    // The user's image may have any entry point; ours replaces it, and needs only `sh`.
    entryPoint: ['sh', '-c'],
    command: [`exec sh ${STAGE_SCRIPT}`],
    workingDirectory: WORKSPACE_PATH,
    ...(task.runAsRoot ? { user: '0' } : { user: NON_ROOT_USER }),
    environment: [
      // uid 65534 has no writable home in most images; /tmp always is.
      // HOME on its own task volume (layout.ts HOME_PATH): the helpers restore and save the cache there.
      { name: 'HOME', value: HOME_PATH },
      { name: 'JAVA_TOOL_OPTIONS', value: JAVA_TOOL_OPTIONS },
      { name: 'CI', value: 'true' },
    ],
    mountPoints: [workspaceMount, helperMount(true), logsMount, homeMount],
    dependsOn: [{ containerName: FETCH_CONTAINER, condition: 'SUCCESS' }],
    logConfiguration: awslogs(settings, 'stage'),
  };
  const publish: ContainerDefinition = {
    name: PUBLISH_CONTAINER,
    image: settings.helperImage,
    essential: true,
    entryPoint: ['node', HELPER_FILE],
    environment: helperEnvironment(settings, 'publish', workspaceUid),
    mountPoints: [workspaceMount, helperMount(false), logsMount, homeMount, usageMount(true)],
    dependsOn: [{ containerName: BUILD_CONTAINER, condition: 'COMPLETE' }],
    logConfiguration: awslogs(settings, 'stage'),
  };
  const liveLog: ContainerDefinition = {
    name: LIVE_LOG_CONTAINER,
    image: settings.helperImage,
    essential: false,
    entryPoint: ['node', HELPER_FILE],
    // No bucket, no grant, no StageCredentials: it only reads the log file and the task metadata,
    // and writes what it measured of the build container where only publish reads it.
    environment: [{ name: ENV.mode, value: LIVE_LOG_CONTAINER }],
    mountPoints: [helperMount(true), { ...logsMount, readOnly: true }, usageMount(false)],
    // Fetch wrote the helper code it runs; it starts alongside the build container.
    dependsOn: [{ containerName: FETCH_CONTAINER, condition: 'SUCCESS' }],
    logConfiguration: awslogs(settings, 'stage'),
  };
  return [fetch, build, liveLog, publish];
}

/** The full registration request; its family is derived from everything else in it. */
export function buildTaskDefinition(settings: TaskSettings, task: TaskImage): RegisterTaskDefinitionRequest {
  const content: Omit<RegisterTaskDefinitionRequest, 'family'> = {
    requiresCompatibilities: ['FARGATE'],
    networkMode: 'awsvpc',
    cpu: REGISTERED_CPU,
    memory: REGISTERED_MEMORY,
    runtimePlatform: {
      cpuArchitecture: task.architecture === 'arm64' ? 'ARM64' : 'X86_64',
      operatingSystemFamily: 'LINUX',
    },
    executionRoleArn: settings.executionRoleArn,
    taskRoleArn: settings.taskRoleArn,
    volumes: [{ name: WORKSPACE_VOLUME }, { name: HELPER_VOLUME }, { name: LOGS_VOLUME }, { name: HOME_VOLUME }, { name: USAGE_VOLUME }],
    containerDefinitions: buildContainers(settings, task),
  };
  return { family: taskDefinitionFamily(task.image, content), ...content };
}
