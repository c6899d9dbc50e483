/**
 * The per-second cost model: pure functions from a size and a duration to
 * the billed duration and the dollars, for predictions and for actuals alike.
 */
import type { FargateSize, LambdaSize } from '../plan/types.js';
import { LAMBDA_MIN_STORAGE_MB } from '../sizing/lambda-sizes.js';
import { FARGATE_DEFAULT_STORAGE_GIB } from '../sizing/fargate-sizes.js';
import type { RegionPrices } from './price-book.js';

export interface Cost {
  billedDurationMs: number;
  costUsd: number;
}

/**
 * Fargate bills from the start of the image pull, so a task pays for its start-up too.
 * An estimate for predictions (a small image from ECR Public pulls in seconds, a large
 * one in tens of seconds); actual costs use the task's own PullStartedAt timestamp.
 */
export const FARGATE_BILLED_STARTUP_MS = 20_000;

/** One minute: Fargate's minimum charge per task. */
export const FARGATE_MINIMUM_BILLED_MS = 60_000;

/**
 * Lambda: GB-seconds at 1 ms granularity, plus the request, plus /tmp above 512 MB.
 * https://aws.amazon.com/lambda/pricing/
 */
export function lambdaCost(size: LambdaSize, durationMs: number, prices: RegionPrices): Cost {
  const p = prices[size.architecture];
  const billedDurationMs = Math.max(1, Math.ceil(durationMs));
  const seconds = billedDurationMs / 1000;
  const memoryGb = size.memoryMB / 1024;
  const extraStorageGb = Math.max(0, size.ephemeralStorageMB - LAMBDA_MIN_STORAGE_MB) / 1024;
  const costUsd =
    memoryGb * seconds * p.lambdaGbSecond + p.lambdaRequest + extraStorageGb * seconds * p.lambdaStorageGbSecond;
  return { billedDurationMs, costUsd };
}

/**
 * Fargate: vCPU and memory per second, rounded up to the second with a one-minute
 * minimum, from image pull start to task stop; storage above the included 20 GB.
 * Spot takes the configured discount off vCPU and memory.
 * https://aws.amazon.com/fargate/pricing/
 */
export function fargateCost(size: FargateSize, durationMs: number, prices: RegionPrices): Cost {
  const p = prices[size.architecture];
  const billedDurationMs = Math.max(FARGATE_MINIMUM_BILLED_MS, Math.ceil(durationMs / 1000) * 1000);
  const hours = billedDurationMs / 3_600_000;
  const vcpu = size.cpu / 1024;
  const memoryGb = size.memory / 1024;
  const compute = (vcpu * p.fargateVcpuHour + memoryGb * p.fargateGbHour) * hours;
  const discount = size.spot ? prices.fargateSpotDiscount : 0;
  const extraStorageGb = Math.max(0, size.ephemeralStorageGiB - FARGATE_DEFAULT_STORAGE_GIB);
  const storage = extraStorageGb * p.fargateStorageGbHour * hours;
  return { billedDurationMs, costUsd: compute * (1 - discount) + storage };
}

/** Step Functions Standard: per state transition, retries included. */
export function orchestrationCost(transitions: number, prices: RegionPrices): number {
  return transitions * prices.stateTransition;
}

export function s3RequestCost(writes: number, reads: number, prices: RegionPrices): number {
  return writes * prices.s3WriteRequest + reads * prices.s3ReadRequest;
}

/** The hourly price of a Fargate size (used to pick the cheapest valid pair). */
export function fargateHourlyUsd(cpu: number, memory: number, prices: RegionPrices, architecture: FargateSize['architecture']): number {
  const p = prices[architecture];
  return (cpu / 1024) * p.fargateVcpuHour + (memory / 1024) * p.fargateGbHour;
}
