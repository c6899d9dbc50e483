/**
 * The report's cost breakdown: one line per billed item, each with the quantity it was billed on,
 * and a total that is exactly the sum of the lines. Dollars are kept as whole units of 1e-10 USD
 * while summing (float sums of rounded figures drift by an ulp), so `sum(lines) === total` holds
 * to the last digit (test/domain/report/cost-breakdown.test.ts checks it with fast-check).
 */

export type CostItem =
  | 'lambda'
  | 'lambdaInit'
  | 'fargate'
  | 'fargateSpotInterrupted'
  | 'publicIpv4'
  | 'cloudWatchLogs'
  | 'stateTransitions'
  | 's3Tier1Requests'
  | 's3Tier2Requests';

export interface CostLine {
  item: CostItem;
  /** The stage the line belongs to; absent for the build's own lines (orchestration, S3). */
  stage?: string;
  /** What was billed: ms, GB, requests, transitions (see `unit`). */
  quantity: number;
  unit: 'ms' | 'GB' | 'requests' | 'transitions' | 'hours';
  usd: number;
  /** The line bills a Lambda attempt the stage was escalated from (not its final run). */
  escalatedAttempt?: boolean;
  /** The quantity is a model, not a measurement (say which in `note`). */
  estimated?: boolean;
  note?: string;
}

/** 1e-10 USD: the precision every figure of the report keeps (billing.ts roundUsd). */
const UNITS_PER_USD = 1e10;

export function toUnits(usd: number): number {
  return Math.round(usd * UNITS_PER_USD);
}

export function fromUnits(units: number): number {
  return units / UNITS_PER_USD;
}

/** A line with its dollars rounded to the report's precision. */
export function costLine(line: CostLine): CostLine {
  return { ...line, usd: fromUnits(toUnits(line.usd)) };
}

/** The exact sum of lines (each already rounded by `costLine`). */
export function sumLines(lines: readonly CostLine[]): number {
  return fromUnits(lines.reduce((sum, line) => sum + toUnits(line.usd), 0));
}

export interface CostBreakdown {
  lines: CostLine[];
  /** Lambda, Lambda INIT and Fargate (including interrupted Spot tasks). */
  computeUsd: number;
  /** Public IPv4 addresses of Fargate tasks. */
  publicIpv4Usd: number;
  cloudWatchLogsUsd: number;
  stateTransitions: number;
  stateTransitionsUsd: number;
  /** Tier-1 plus tier-2 requests. */
  s3Requests: number;
  s3RequestsUsd: number;
  /** Exactly the sum of `lines`. */
  totalUsd: number;
}

const COMPUTE: ReadonlySet<CostItem> = new Set(['lambda', 'lambdaInit', 'fargate', 'fargateSpotInterrupted']);

function sumOf(lines: readonly CostLine[], keep: (line: CostLine) => boolean): number {
  return sumLines(lines.filter(keep));
}

export function costBreakdown(lines: CostLine[]): CostBreakdown {
  const count = (item: CostItem) => lines.filter((l) => l.item === item).reduce((n, l) => n + l.quantity, 0);
  return {
    lines,
    computeUsd: sumOf(lines, (l) => COMPUTE.has(l.item)),
    publicIpv4Usd: sumOf(lines, (l) => l.item === 'publicIpv4'),
    cloudWatchLogsUsd: sumOf(lines, (l) => l.item === 'cloudWatchLogs'),
    stateTransitions: count('stateTransitions'),
    stateTransitionsUsd: sumOf(lines, (l) => l.item === 'stateTransitions'),
    s3Requests: count('s3Tier1Requests') + count('s3Tier2Requests'),
    s3RequestsUsd: sumOf(lines, (l) => l.item === 's3Tier1Requests' || l.item === 's3Tier2Requests'),
    totalUsd: sumLines(lines),
  };
}
