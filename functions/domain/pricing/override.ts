/**
 * A user's prices file: a partial PriceBook merged over the defaults, so a
 * team can add its region, its negotiated rates or today's Spot discount.
 */
import { UserError } from '../errors.js';
import { GITHUB_HOSTED_PRICES, type GitHubHostedPrices } from './github-hosted.js';
import type { ComputePrices, PriceBook, RegionPrices } from './price-book.js';

const COMPUTE_KEYS: (keyof ComputePrices)[] = [
  'lambdaGbSecond', 'lambdaRequest', 'lambdaStorageGbSecond', 'fargateVcpuHour', 'fargateGbHour', 'fargateStorageGbHour',
];
const REGION_KEYS = ['stateTransition', 's3WriteRequest', 's3ReadRequest', 'fargateSpotDiscount', 'cloudWatchLogsIngestGb', 'publicIpv4Hour'] as const;

export class InvalidPrices extends UserError {
  override name = 'InvalidPrices';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function price(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidPrices(`${where}: expected a non-negative number, got ${JSON.stringify(value)}`);
  }
  return value;
}

function mergeCompute(base: ComputePrices | undefined, over: unknown, where: string, overridden: string[]): ComputePrices {
  if (!isRecord(over)) throw new InvalidPrices(`${where}: expected an object of prices`);
  const out = { ...(base ?? {}) } as Partial<ComputePrices>;
  for (const [k, v] of Object.entries(over)) {
    if (!COMPUTE_KEYS.includes(k as keyof ComputePrices)) {
      throw new InvalidPrices(`${where}.${k}: unknown price; allowed: ${COMPUTE_KEYS.join(', ')}`);
    }
    out[k as keyof ComputePrices] = price(v, `${where}.${k}`);
    overridden.push(`${where}.${k}`);
  }
  for (const k of COMPUTE_KEYS) if (out[k] === undefined) throw new InvalidPrices(`${where}.${k}: missing (new regions need every price)`);
  return out as ComputePrices;
}

/**
 * `"githubHosted": { "asOf": "...", "source": "...", "perMinuteUsd": { "<sku>": 0.006 } }`: new
 * rates for runners the comparison knows (by SKU), with the date and source they come from.
 */
function mergeGitHubHosted(base: GitHubHostedPrices, over: unknown, file: string, overridden: string[]): GitHubHostedPrices {
  const where = `${file}: githubHosted`;
  if (!isRecord(over) || !isRecord(over.perMinuteUsd)) throw new InvalidPrices(`${where}: expected { "asOf", "source", "perMinuteUsd": { "<sku>": <USD> } }`);
  if (typeof over.asOf !== 'string' || typeof over.source !== 'string') throw new InvalidPrices(`${where}: "asOf" and "source" are required (prices are dated and sourced)`);
  const rates = over.perMinuteUsd;
  for (const sku of Object.keys(rates)) {
    if (!base.runners.some((r) => r.sku === sku)) throw new InvalidPrices(`${where}.perMinuteUsd.${sku}: unknown runner; known: ${base.runners.map((r) => r.sku).join(', ')}`);
    overridden.push(`${where}.perMinuteUsd.${sku}`);
  }
  return {
    asOf: over.asOf,
    source: over.source,
    runners: base.runners.map((r) => (rates[r.sku] === undefined ? r : { ...r, perMinuteUsd: price(rates[r.sku], `${where}.perMinuteUsd.${r.sku}`) })),
  };
}

/** `file` names the override in errors; `json` is its parsed content. */
export function mergePriceBook(base: PriceBook, json: unknown, file: string): PriceBook {
  if (!isRecord(json) || (!isRecord(json.regions) && json.githubHosted === undefined)) throw new InvalidPrices(`${file}: expected { "regions": { "<region>": { ... } } }`);
  const regions: Record<string, RegionPrices> = { ...base.regions };
  const overridden: string[] = [];
  for (const [region, over] of Object.entries(isRecord(json.regions) ? json.regions : {})) {
    const where = `${file}: regions.${region}`;
    if (!isRecord(over)) throw new InvalidPrices(`${where}: expected an object`);
    const prev = base.regions[region];
    const merged: Partial<RegionPrices> = { ...(prev ?? {}) };
    for (const [k, v] of Object.entries(over)) {
      if (k === 'x86_64' || k === 'arm64') merged[k] = mergeCompute(prev?.[k], v, `${where}.${k}`, overridden);
      else if ((REGION_KEYS as readonly string[]).includes(k)) {
        merged[k as (typeof REGION_KEYS)[number]] = price(v, `${where}.${k}`);
        overridden.push(`${where}.${k}`);
      } else throw new InvalidPrices(`${where}.${k}: unknown field; allowed: x86_64, arm64, ${REGION_KEYS.join(', ')}`);
    }
    for (const k of ['x86_64', 'arm64', ...REGION_KEYS] as const) {
      if (merged[k] === undefined) throw new InvalidPrices(`${where}.${k}: missing (new regions need every price)`);
    }
    if (merged.fargateSpotDiscount! >= 1) throw new InvalidPrices(`${where}.fargateSpotDiscount: must be below 1 (a fraction, e.g. 0.7)`);
    regions[region] = merged as RegionPrices;
  }
  return {
    ...base,
    source: typeof json.source === 'string' ? json.source : `${base.source}; overridden by ${file}`,
    asOf: typeof json.asOf === 'string' ? json.asOf : base.asOf,
    regions,
    ...(json.githubHosted !== undefined ? { githubHosted: mergeGitHubHosted(base.githubHosted ?? GITHUB_HOSTED_PRICES, json.githubHosted, file, overridden) } : base.githubHosted ? { githubHosted: base.githubHosted } : {}),
    overrides: [...(base.overrides ?? []), ...overridden],
  };
}
