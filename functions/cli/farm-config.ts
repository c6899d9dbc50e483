/**
 * The farm settings a CLI command plans with: flags first, then environment, then defaults
 * that match template.yaml's parameter defaults.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../domain/errors.js';
import type { PlannerConfig } from '../domain/plan/types.js';
import { mergePriceBook } from '../domain/pricing/override.js';
import { DEFAULT_PRICE_BOOK, type PriceBook } from '../domain/pricing/price-book.js';
import {
  DEFAULT_DEPLOYED_LAMBDA_TIERS_MB,
  LAMBDA_MAX_STORAGE_MB,
  LAMBDA_MIN_STORAGE_MB,
  parseLambdaRunnerTiers,
} from '../domain/sizing/lambda-sizes.js';

export interface FarmFlags {
  region?: string;
  prices?: string;
  'lambda-storage'?: string;
  'lambda-tiers'?: string;
}

/** The parseArgs options every command that plans takes (see plannerConfig and loadPriceBook). */
export const FARM_OPTIONS = {
  region: { type: 'string' },
  prices: { type: 'string' },
  'lambda-storage': { type: 'string' },
  'lambda-tiers': { type: 'string' },
} as const;

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_LAMBDA_STORAGE_MB = 512;

export function plannerConfig(flags: FarmFlags, env: NodeJS.ProcessEnv): PlannerConfig {
  const rawStorage = flags['lambda-storage'] ?? env.BUILDFARM_LAMBDA_STORAGE_MB;
  const storage = rawStorage === undefined ? DEFAULT_LAMBDA_STORAGE_MB : Number(rawStorage);
  if (!Number.isInteger(storage) || storage < LAMBDA_MIN_STORAGE_MB || storage > LAMBDA_MAX_STORAGE_MB) {
    throw new UserError(
      `--lambda-storage: "${rawStorage}" is not a Lambda /tmp size; allowed: a whole number of MB from ${LAMBDA_MIN_STORAGE_MB} to ${LAMBDA_MAX_STORAGE_MB}`,
    );
  }
  // The runner tiers a default deployment has (LambdaRunnerMaxMemoryMB), unless told otherwise.
  const rawTiers = flags['lambda-tiers'] ?? env.BUILDFARM_LAMBDA_TIERS_MB;
  const tiers = rawTiers === undefined ? DEFAULT_DEPLOYED_LAMBDA_TIERS_MB : parseLambdaRunnerTiers(rawTiers, '--lambda-tiers');
  return {
    region: flags.region ?? env.BUILDFARM_REGION ?? env.AWS_REGION ?? DEFAULT_REGION,
    lambdaEphemeralStorageMB: storage,
    lambdaRunnerTiersMB: tiers,
  };
}

/** The default price book, with the user's override file merged over it when one is named. */
export async function loadPriceBook(flags: FarmFlags, env: NodeJS.ProcessEnv): Promise<PriceBook> {
  const file = flags.prices ?? env.BUILDFARM_PRICES;
  if (!file) return DEFAULT_PRICE_BOOK;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read the prices file (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  return mergePriceBook(DEFAULT_PRICE_BOOK, json, file);
}
