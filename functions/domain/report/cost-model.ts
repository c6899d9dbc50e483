/**
 * What the report needs from pricing: the cost of a Lambda invocation, of a Fargate task, of
 * state transitions and of S3 requests. Passed in, so the report stays pure and a user can
 * override prices. `rateCostModel` computes them from per-unit rates (dated data that lives
 * with the pricing tables, never here).
 */
import type { Architecture } from '../pipeline/types.js';
import type { FargateSize, LambdaSize } from '../plan/types.js';

export interface S3RequestCount {
  /** PUT, COPY, POST and LIST requests. */
  put: number;
  /** GET and other requests. */
  get: number;
}

export interface CostModel {
  lambdaUsd(size: LambdaSize, billedMs: number): number;
  /** `spot`: the capacity provider the task actually ran on was FARGATE_SPOT. */
  fargateUsd(size: FargateSize, billedMs: number, spot: boolean): number;
  stateTransitionsUsd(count: number): number;
  s3RequestsUsd(requests: S3RequestCount): number;
}

export interface CostRates {
  /** USD per GB-second of configured memory (GB = MB / 1024). */
  lambdaGbSecond: Record<Architecture, number>;
  /** USD per invocation. */
  lambdaRequest: number;
  /** USD per GB-second of /tmp above the free 512 MB. */
  lambdaStorageGbSecond: number;
  fargateVcpuHour: Record<Architecture, number>;
  fargateGbHour: Record<Architecture, number>;
  /** USD per GB-hour of ephemeral storage above the free 20 GB. */
  fargateStorageGbHour: number;
  /** Price multiplier for Fargate Spot (variable; e.g. 0.3 for 70% off). */
  fargateSpotMultiplier: number;
  /** USD per Standard state transition. */
  stateTransition: number;
  /** USD per PUT/COPY/POST/LIST request. */
  s3Put: number;
  /** USD per GET request. */
  s3Get: number;
}

const MS_PER_SECOND = 1000;
const SECONDS_PER_HOUR = 3600;
const FREE_LAMBDA_TMP_MB = 512;
const FREE_FARGATE_STORAGE_GIB = 20;

export function rateCostModel(rates: CostRates): CostModel {
  return {
    lambdaUsd(size, billedMs) {
      const seconds = billedMs / MS_PER_SECOND;
      const memory = (size.memoryMB / 1024) * seconds * rates.lambdaGbSecond[size.architecture];
      const extraTmpGb = Math.max(0, size.ephemeralStorageMB - FREE_LAMBDA_TMP_MB) / 1024;
      return memory + extraTmpGb * seconds * rates.lambdaStorageGbSecond + rates.lambdaRequest;
    },
    fargateUsd(size, billedMs, spot) {
      const hours = billedMs / MS_PER_SECOND / SECONDS_PER_HOUR;
      const vcpu = (size.cpu / 1024) * hours * rates.fargateVcpuHour[size.architecture];
      const memory = (size.memory / 1024) * hours * rates.fargateGbHour[size.architecture];
      const compute = spot ? (vcpu + memory) * rates.fargateSpotMultiplier : vcpu + memory;
      const extraStorage = Math.max(0, size.ephemeralStorageGiB - FREE_FARGATE_STORAGE_GIB) * hours * rates.fargateStorageGbHour;
      return compute + extraStorage;
    },
    stateTransitionsUsd: (count) => count * rates.stateTransition,
    s3RequestsUsd: (requests) => requests.put * rates.s3Put + requests.get * rates.s3Get,
  };
}
