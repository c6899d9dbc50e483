/**
 * The fixed layout of a build task: container names, shared volumes and the
 * paths where the helpers leave things for each other. The task definition,
 * the helper entry point and the tests all read these names from here.
 */

export const FETCH_CONTAINER = 'fetch';
export const BUILD_CONTAINER = 'build';
export const PUBLISH_CONTAINER = 'publish';
/**
 * Follows the build's log file and prints it, capped, to its own stdout (CloudWatch Logs):
 * the build container's output goes only to the log file, because nothing in a user's image
 * can be trusted to cap what its stdout sends to CloudWatch.
 */
export const LIVE_LOG_CONTAINER = 'live-log';

/** The workspace every container shares (the stage's checkout and upstream artifacts). */
export const WORKSPACE_VOLUME = 'workspace';
export const WORKSPACE_PATH = '/workspace';

/**
 * Helper code and the generated stage script. Read-only in the build container:
 * the user's commands can read their script but cannot alter the publish helper.
 */
export const HELPER_VOLUME = 'buildfarm';
export const HELPER_PATH = '/buildfarm';
export const HELPER_FILE = `${HELPER_PATH}/helper.cjs`;
export const STAGE_SCRIPT = `${HELPER_PATH}/stage.sh`;
export const COMMANDS_SCRIPT = `${HELPER_PATH}/commands.sh`;

/**
 * The stage's HOME (`~` in the pipeline file), a volume of its own so the dependency cache
 * can be restored into it by fetch and saved from it by publish (runner/cache/). The build
 * container's HOME points here, for root stages too: `~` must be the same place the
 * helpers see. (Before the cache it was the build container's own /tmp.)
 */
export const HOME_VOLUME = 'buildfarm-home';
export const HOME_PATH = '/buildfarm-home';

/**
 * What the live-log container measured of the build container (CPU and memory, from the task
 * metadata endpoint's stats: domain/fargate/container-stats.ts), for publish. A volume the build
 * container does not mount, so the stage cannot write its own figures.
 */
export const USAGE_VOLUME = 'buildfarm-usage';
export const USAGE_PATH = '/buildfarm-usage';
export const USAGE_FILE = `${USAGE_PATH}/usage.json`;

/** The build's log and exit code, written by the build container, read by publish. */
export const LOGS_VOLUME = 'buildfarm-logs';
export const LOGS_PATH = '/buildfarm-logs';
export const LOG_FILE = `${LOGS_PATH}/log.txt`;
export const EXIT_CODE_FILE = `${LOGS_PATH}/exit-code`;

/**
 * Space fetch sets aside on the task's ephemeral storage, which every volume and container
 * layer shares (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html):
 * a stage that fills the disk cannot also starve publish of room to report it. On the helper
 * volume, which the build container mounts read-only, so the commands cannot delete it.
 */
export const DISK_RESERVE_BYTES = 64 * 1024 * 1024;

/**
 * The stage's secret values, one file per variable, written by fetch for the build user
 * alone (directory 0700, files 0400) and deleted by the build container's script before
 * any command runs. On the logs volume because the helper volume is read-only in the
 * build container, which must be able to delete them.
 */
export const SECRETS_DIR = `${LOGS_PATH}/secrets`;

/**
 * SHA-256 of each secret value fetch handed to the build, for publish: it re-reads the
 * secrets to mask the log and must know they are still the values the build saw. Only
 * the helpers' user can read it, and the build container cannot write the helper volume.
 */
export const SECRET_HASHES_FILE = `${HELPER_PATH}/secret-hashes.json`;

/** uid:gid of `nobody`: the build container's user unless the stage opts into root. */
export const NON_ROOT_USER = '65534:65534';
export const NON_ROOT_UID = 65534;

/**
 * The helpers' image: the official Node.js image, mirrored on ECR Public (no Docker Hub
 * pull limits from Fargate). Node 22 matches the Lambda runtime the same agent code runs on.
 */
export const DEFAULT_HELPER_IMAGE = 'public.ecr.aws/docker/library/node:22-slim';

/**
 * The image for a stage that has none (a Lambda stage escalated to Fargate): the Lambda
 * Node.js 22 base image, Amazon Linux 2023 with the same tools the Lambda runtime has,
 * so the stage finds the environment it was planned for.
 */
export const DEFAULT_STAGE_IMAGE = 'public.ecr.aws/lambda/nodejs:22';

/**
 * The JVM otherwise sizes its heap from a quarter of memory; 75% of the container's
 * limit lets Maven and Gradle use the task size they were given.
 */
export const JAVA_TOOL_OPTIONS = '-XX:MaxRAMPercentage=75.0';

/** Environment variable names the helpers read. */
export const ENV = {
  mode: 'BUILDFARM_HELPER_MODE',
  bucket: 'BUILDFARM_BUCKET',
  region: 'BUILDFARM_REGION',
  helperKey: 'BUILDFARM_HELPER_KEY',
  buildId: 'BUILDFARM_BUILD_ID',
  stage: 'BUILDFARM_STAGE',
  planKey: 'BUILDFARM_PLAN_KEY',
  fromFork: 'BUILDFARM_FROM_FORK',
  /** The stage's grant token: in the fetch and publish containers' overrides only, never the build container's. */
  grant: 'BUILDFARM_GRANT',
  /** The StageCredentials function the helpers invoke with the grant. */
  stageCredentialsFunction: 'BUILDFARM_STAGE_CREDENTIALS_FUNCTION',
  workspace: 'BUILDFARM_WORKSPACE',
  workspaceUid: 'BUILDFARM_WORKSPACE_UID',
  /** live-log: `true` to print the build's log live; `false` for a stage with secrets (its output is never sent unmasked). */
  logLive: 'BUILDFARM_LOG_LIVE',
  /** live-log and publish: the stage's `log-limit` in bytes. */
  logLimitBytes: 'BUILDFARM_LOG_LIMIT_BYTES',
  /** Set by the bootstrap for the helper it runs: how many GetObject attempts its download made (billed). */
  helperDownloads: 'BUILDFARM_HELPER_DOWNLOADS',
} as const;
