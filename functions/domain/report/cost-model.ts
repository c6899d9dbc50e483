/**
 * What the report needs from pricing: the cost of a Lambda invocation, of a Fargate task, of
 * state transitions and of S3 requests, for durations already billed by the rules in
 * `billing.ts`. Passed in, so the report stays pure; `pricedCostModel` implements it with the
 * per-second cost model and a region's prices from the price book (which a user may override).
 */
import type { FargateSize, LambdaSize } from '../plan/types.js';
import { fargateCost, lambdaCost, orchestrationCost, s3RequestCost } from '../pricing/cost.js';
import type { RegionPrices } from '../pricing/price-book.js';

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

export function pricedCostModel(prices: RegionPrices): CostModel {
  return {
    lambdaUsd: (size, billedMs) => lambdaCost(size, billedMs, prices).costUsd,
    fargateUsd: (size, billedMs, spot) => fargateCost({ ...size, spot }, billedMs, prices).costUsd,
    stateTransitionsUsd: (count) => orchestrationCost(count, prices),
    s3RequestsUsd: (requests) => s3RequestCost(requests.put, requests.get, prices),
  };
}
