/**
 * Prices are data: per region and architecture, dated, with their source, and a
 * user may override any of them with a JSON file (see mergePriceBook).
 */
import { UserError } from '../errors.js';
import type { Architecture } from '../pipeline/types.js';
import type { GitHubHostedPrices } from './github-hosted.js';

export interface ComputePrices {
  /** Lambda, per GB-second (billed in 1 ms steps). */
  lambdaGbSecond: number;
  /** Lambda, per request. */
  lambdaRequest: number;
  /** Lambda /tmp above 512 MB, per GB-second. */
  lambdaStorageGbSecond: number;
  /** Fargate, per vCPU-hour (billed per second, one-minute minimum). */
  fargateVcpuHour: number;
  /** Fargate, per GB-hour of memory. */
  fargateGbHour: number;
  /** Fargate ephemeral storage above the included 20 GB, per GB-hour. */
  fargateStorageGbHour: number;
}

export interface RegionPrices {
  x86_64: ComputePrices;
  arm64: ComputePrices;
  /** Step Functions Standard, per state transition (retries count). */
  stateTransition: number;
  /** S3 Standard PUT, COPY, POST and LIST requests, per request. */
  s3WriteRequest: number;
  /** S3 Standard GET and other reads, per request. */
  s3ReadRequest: number;
  /** Fraction taken off Fargate compute on Spot (variable: AWS says up to 70 %). */
  fargateSpotDiscount: number;
  /** CloudWatch Logs ingestion (Standard log class), per GB of uncompressed log data sent. */
  cloudWatchLogsIngestGb: number;
  /** An in-use public IPv4 address, per hour (a Fargate task's ENI with AssignPublicIp ENABLED). */
  publicIpv4Hour: number;
}

export interface PriceBook {
  source: string;
  asOf: string;
  currency: 'USD';
  regions: Record<string, RegionPrices>;
  /** Each override a prices file made, as `file: regions.<region>.<field>` (empty: list prices). */
  overrides?: string[];
  /** GitHub-hosted runner prices for the comparison (default: GITHUB_HOSTED_PRICES). */
  githubHosted?: GitHubHostedPrices;
}

/** Which prices a report used: shown in every report, so a figure can be checked and reproduced. */
export interface PriceBookInfo {
  /** The region whose prices were used (us-east-1's when the farm's region had none: `fallback`). */
  region: string;
  fallback: boolean;
  asOf: string;
  source: string;
  overrides: string[];
}

export function priceBookInfo(book: PriceBook, region: string): PriceBookInfo {
  const chosen = pricingRegion(book, region);
  return { region: chosen.region, fallback: chosen.fallback, asOf: book.asOf, source: book.source, overrides: book.overrides ?? [] };
}

/**
 * us-east-1 list prices. Sources: aws.amazon.com/lambda/pricing, aws.amazon.com/fargate/pricing,
 * aws.amazon.com/step-functions/pricing, aws.amazon.com/s3/pricing, as collected in
 * shared/design/AWS-FACTS.md (2026-08). The Lambda and Fargate figures are third-party
 * confirmed and consistent with AWS's own per-second examples. The Spot discount is the
 * typical us-east-1 Linux/x86 figure (about 69 %) and varies: override it for your region.
 * CloudWatch Logs ingestion and public IPv4 addresses: aws.amazon.com/cloudwatch/pricing and
 * aws.amazon.com/vpc/pricing (2026-11; the IPv4 charge applies since 2024-02-01).
 */
export const DEFAULT_PRICE_BOOK: PriceBook = {
  source: 'AWS public pricing pages for Lambda, Fargate, Step Functions and S3 (us-east-1), via shared/design/AWS-FACTS.md',
  asOf: '2026-08-01',
  currency: 'USD',
  regions: {
    'us-east-1': {
      x86_64: {
        lambdaGbSecond: 0.0000166667,
        lambdaRequest: 0.2 / 1_000_000,
        lambdaStorageGbSecond: 0.0000000309,
        fargateVcpuHour: 0.04048,
        fargateGbHour: 0.004445,
        fargateStorageGbHour: 0.000111,
      },
      arm64: {
        lambdaGbSecond: 0.0000133334,
        lambdaRequest: 0.2 / 1_000_000,
        lambdaStorageGbSecond: 0.0000000309,
        fargateVcpuHour: 0.03238,
        fargateGbHour: 0.00356,
        fargateStorageGbHour: 0.000111,
      },
      stateTransition: 0.025 / 1000,
      s3WriteRequest: 0.005 / 1000,
      s3ReadRequest: 0.0004 / 1000,
      fargateSpotDiscount: 0.69,
      // https://aws.amazon.com/cloudwatch/pricing/ (Logs, Standard, "Collect (Data Ingestion)"), us-east-1.
      cloudWatchLogsIngestGb: 0.5,
      // https://aws.amazon.com/vpc/pricing/ (Public IPv4 Address, "$0.005 per IP per hour", since 2024-02-01).
      publicIpv4Hour: 0.005,
    },
  },
};

/** A user asked for a region the price book has no prices for: their input, so no stack trace. */
export class UnknownRegion extends UserError {
  override name = 'UnknownRegion';
}

export function regionPrices(book: PriceBook, region: string): RegionPrices {
  const prices = book.regions[region];
  if (!prices) {
    throw new UnknownRegion(
      `no prices for region "${region}"; known: ${Object.keys(book.regions).join(', ')}. Add it with a prices override file.`,
    );
  }
  return prices;
}

export function computePrices(prices: RegionPrices, architecture: Architecture): ComputePrices {
  return prices[architecture];
}

/** The region whose prices stand in when the book has none for the farm's region. */
export const FALLBACK_PRICE_REGION = 'us-east-1';

/**
 * The region to price a deployed farm's builds at: its own when the book has it, else
 * us-east-1's (approximate costs beat builds that cannot plan); `fallback` says which.
 */
export function pricingRegion(book: PriceBook, region: string): { region: string; fallback: boolean } {
  return book.regions[region] ? { region, fallback: false } : { region: FALLBACK_PRICE_REGION, fallback: true };
}
