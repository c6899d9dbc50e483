/**
 * What the report needs from pricing: the cost of a Lambda invocation (and of its INIT phase), of
 * a Fargate task, of a public IPv4 address, of CloudWatch Logs ingestion, of state transitions
 * and of S3 requests, for quantities already billed by the rules in `billing.ts`. Passed in, so
 * the report stays pure; `pricedCostModel` implements it with the per-second cost model and a
 * region's prices from the price book (which a user may override), and says which prices those are.
 */
import type { FargateSize, LambdaSize } from '../plan/types.js';
import { fargateCost, lambdaCost, orchestrationCost, s3RequestCost } from '../pricing/cost.js';
import { GITHUB_HOSTED_PRICES, type GitHubHostedPrices } from '../pricing/github-hosted.js';
import type { PriceBookInfo, RegionPrices } from '../pricing/price-book.js';

export interface S3RequestCount {
  /** Tier 1: PUT, COPY, POST and LIST requests (multipart: Create, UploadPart, Complete; ListParts). */
  put: number;
  /** Tier 2: GET, HEAD and every other request that is not free (DELETE and abort are free). */
  get: number;
}

/** `after - before + pending`: one task's requests, from two snapshots of a running count. */
export function requestsSince(before: S3RequestCount, after: S3RequestCount, pending: Partial<S3RequestCount> = {}): S3RequestCount {
  return { put: after.put - before.put + (pending.put ?? 0), get: after.get - before.get + (pending.get ?? 0) };
}

export function addRequests(a: S3RequestCount, b: S3RequestCount | undefined): S3RequestCount {
  return b ? { put: a.put + b.put, get: a.get + b.get } : a;
}

/** CloudWatch bills ingestion per GB; AWS bills data in binary gigabytes (2^30 bytes). */
export const BYTES_PER_GB = 1024 ** 3;

export interface CostModel {
  /** Duration plus the request charge. */
  lambdaUsd(size: LambdaSize, billedMs: number): number;
  /** INIT: billed like duration (GB-seconds and /tmp), with no request charge (since 2025-08-01). */
  lambdaInitUsd(size: LambdaSize, billedMs: number): number;
  /** `spot`: the capacity provider the task actually ran on was FARGATE_SPOT. */
  fargateUsd(size: FargateSize, billedMs: number, spot: boolean): number;
  /** One public IPv4 address held for `ms`. */
  publicIpv4Usd(ms: number): number;
  cloudWatchLogsUsd(bytes: number): number;
  stateTransitionsUsd(count: number): number;
  s3RequestsUsd(requests: S3RequestCount): number;
  /** The prices used, for the report (region, date, source, overrides). */
  readonly priceBook: PriceBookInfo;
  readonly githubHosted: GitHubHostedPrices;
}

/** For callers that price with a bare RegionPrices (tests): the report still says so. */
const UNNAMED_PRICES: PriceBookInfo = { region: 'unnamed', fallback: false, asOf: 'unknown', source: 'prices given by the caller', overrides: [] };

export function pricedCostModel(prices: RegionPrices, info: PriceBookInfo = UNNAMED_PRICES, githubHosted: GitHubHostedPrices = GITHUB_HOSTED_PRICES): CostModel {
  return {
    lambdaUsd: (size, billedMs) => lambdaCost(size, billedMs, prices).costUsd,
    lambdaInitUsd: (size, billedMs) => (billedMs > 0 ? lambdaCost(size, billedMs, prices).costUsd - prices[size.architecture].lambdaRequest : 0),
    fargateUsd: (size, billedMs, spot) => fargateCost({ ...size, spot }, billedMs, prices).costUsd,
    publicIpv4Usd: (ms) => (Math.max(0, ms) / 3_600_000) * prices.publicIpv4Hour,
    cloudWatchLogsUsd: (bytes) => (Math.max(0, bytes) / BYTES_PER_GB) * prices.cloudWatchLogsIngestGb,
    stateTransitionsUsd: (count) => orchestrationCost(count, prices),
    s3RequestsUsd: (requests) => s3RequestCost(requests.put, requests.get, prices),
    priceBook: info,
    githubHosted,
  };
}
