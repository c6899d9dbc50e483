/**
 * The hard limits lint checks a pipeline file against. Each one comes from an
 * AWS quota (linked) or is the farm's own policy (said so). The planner's size
 * tables pick concrete sizes inside these limits; lint only rejects requests
 * no runner could ever satisfy.
 */

/** Fargate's smallest task is 0.25 vCPU, its largest 16 vCPU.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html#fargate-tasks-size */
export const MIN_CPU_VCPU = 0.25;
export const MAX_CPU_VCPU = 16;

/** 16 vCPU allows up to 120 GiB (122,880 MiB), the largest Fargate size: one source, the size table. */
export { FARGATE_MAX_MEMORY_MIB as MAX_FARGATE_MEMORY_MIB } from '../sizing/fargate-sizes.js';

/** Lambda's smallest memory setting; no runner can give a stage less.
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html */
export const MIN_MEMORY_MIB = 128;

/** Fargate ephemeral storage tops out at 200 GiB (`EphemeralStorage.SizeInGiB` 21 to 200).
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-task-storage.html */
export const MAX_DISK_MIB = 200 * 1024;

/** Farm policy, not an AWS limit: a stage that runs a whole day is a runaway
 * that keeps billing; longer jobs should be split into stages. */
export const MAX_TIMEOUT_SECONDS = 24 * 3600;

/** Lambda's hard limits, from the sizing tables (each linked there).
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html */
export {
  LAMBDA_MAX_TIMEOUT_SECONDS,
  LAMBDA_PLANNABLE_SECONDS,
  LAMBDA_SAFETY_MARGIN_SECONDS,
  LAMBDA_MAX_MEMORY_MB,
  LAMBDA_MAX_VCPU,
  LAMBDA_MAX_STORAGE_MB as LAMBDA_MAX_EPHEMERAL_MB,
} from '../sizing/lambda-sizes.js';

/** What a stage gets when neither it nor `defaults` sets a field. */
export const DEFAULT_RESOURCES = { cpu: 1, memoryMiB: 2048, diskMiB: 512 } as const;
export const DEFAULT_TIMEOUT_SECONDS = 600;

/** Protection against hostile files (YAML bombs, giant or deeply nested documents). */
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_ALIAS_COUNT = 100;
/** Flow or block collections inside one another (domain/pipeline/nesting-depth.ts). */
export const MAX_NESTING_DEPTH = 64;

/**
 * `log-limit`: farm policy, not an AWS limit. A stage's stored log keeps its first and last
 * halves of this many bytes (functions/runner/log-cap.ts), on S3 and in CloudWatch Logs,
 * which bills ingestion per GB. 1 MiB still shows a useful head and tail; 1 GiB is as much
 * as the dashboard and a browser can usefully page through.
 */
export const DEFAULT_LOG_LIMIT_MIB = 64;
export const MIN_LOG_LIMIT_MIB = 1;
export const MAX_LOG_LIMIT_MIB = 1024;
