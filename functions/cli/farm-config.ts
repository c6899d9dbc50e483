/**
 * The farm settings a CLI command plans with: flags first, then environment, then defaults
 * that match template.yaml's parameter defaults.
 */
import { readFile } from 'node:fs/promises';
import { UserError } from '../domain/errors.js';
import {
  FORKS_SETTING,
  MAX_BUILD_COST_SETTING,
  MAX_FORK_BUILD_COST_SETTING,
  farmPolicyFrom,
  type FarmPolicy,
  type SettingNames,
} from '../domain/plan/farm-policy.js';
import type { PlannerConfig } from '../domain/plan/types.js';
import type { LocalBuildSettings } from '../local/local-build-runner.js';
import type { StageSandbox } from '../runner/sandbox.js';
import { OPTIMIZE_SETTING } from '../domain/plan/optimize.js';
import { costSettingsFrom, PR_COST_THRESHOLD_SETTING } from '../domain/plan/farm-settings.js';
import { DAILY_BUDGET_SETTING, MONTHLY_BUDGET_SETTING, REPO_DAILY_BUDGET_SETTING, REPO_MONTHLY_BUDGET_SETTING } from '../domain/budget/budgets.js';
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
  forks?: string;
  'max-build-cost'?: string;
  'max-fork-build-cost'?: string;
  optimize?: string;
  'daily-budget'?: string;
  'monthly-budget'?: string;
  'repo-daily-budget'?: string;
  'repo-monthly-budget'?: string;
  'pr-cost-threshold'?: string;
}

/** The parseArgs options every command that plans takes (see plannerConfig and loadPriceBook). */
export const FARM_OPTIONS = {
  region: { type: 'string' },
  prices: { type: 'string' },
  'lambda-storage': { type: 'string' },
  'lambda-tiers': { type: 'string' },
  forks: { type: 'string' },
  'max-build-cost': { type: 'string' },
  'max-fork-build-cost': { type: 'string' },
  optimize: { type: 'string' },
  'daily-budget': { type: 'string' },
  'monthly-budget': { type: 'string' },
  'repo-daily-budget': { type: 'string' },
  'repo-monthly-budget': { type: 'string' },
  'pr-cost-threshold': { type: 'string' },
} as const;

/** The flags' help lines, shared by the commands that take them. */
export const FARM_POLICY_HELP = `  --forks build|no-secrets|off  fork pull requests: build with secrets, build without (default), or refuse ($BUILDFARM_FORKS)
  --max-build-cost USD         refuse any build predicted to cost more (default: no limit; $BUILDFARM_MAX_BUILD_COST_USD)
  --max-fork-build-cost USD    refuse a fork pull request predicted to cost more (default 0.50; $BUILDFARM_MAX_FORK_BUILD_COST_USD)
  --optimize cost|time|balanced  what runner choice weighs (default balanced; $BUILDFARM_OPTIMIZE; a pipeline's optimize: wins)
  --daily-budget USD           refuse a build that would take the farm's spend today (UTC) past USD ($BUILDFARM_DAILY_BUDGET_USD)
  --monthly-budget USD         the same for the calendar month ($BUILDFARM_MONTHLY_BUDGET_USD)
  --repo-daily-budget LIST     per repository: owner/name=USD,... ($BUILDFARM_REPO_DAILY_BUDGETS_USD)
  --repo-monthly-budget LIST   per repository, per month ($BUILDFARM_REPO_MONTHLY_BUDGETS_USD)
  --pr-cost-threshold PCT      fail a pull request's cost status when it costs more than PCT % over its base
                               branch's last successful build ($BUILDFARM_PR_COST_THRESHOLD_PCT; pipeline cost: pr-threshold wins)`;

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

/**
 * Fork policy and cost limits: each flag first, then its environment variable, then the default
 * (the template's: `no-secrets`, no build limit, forks at most $0.50). An error names the flag or
 * the variable the bad value came from, and what is allowed.
 */
export function farmPolicy(flags: FarmFlags, env: NodeJS.ProcessEnv): FarmPolicy {
  const pick = (flag: string | undefined, names: SettingNames): { text?: string; where: string } =>
    flag !== undefined ? { text: flag, where: names.flag } : { text: env[names.env], where: names.env };
  const forks = pick(flags.forks, FORKS_SETTING);
  const build = pick(flags['max-build-cost'], MAX_BUILD_COST_SETTING);
  const fork = pick(flags['max-fork-build-cost'], MAX_FORK_BUILD_COST_SETTING);
  const where = new Map([
    [FORKS_SETTING, forks.where],
    [MAX_BUILD_COST_SETTING, build.where],
    [MAX_FORK_BUILD_COST_SETTING, fork.where],
  ]);
  const costSettings = [
    ['daily', flags['daily-budget'], DAILY_BUDGET_SETTING],
    ['monthly', flags['monthly-budget'], MONTHLY_BUDGET_SETTING],
    ['repoDaily', flags['repo-daily-budget'], REPO_DAILY_BUDGET_SETTING],
    ['repoMonthly', flags['repo-monthly-budget'], REPO_MONTHLY_BUDGET_SETTING],
    ['optimize', flags.optimize, OPTIMIZE_SETTING],
    ['prThreshold', flags['pr-cost-threshold'], PR_COST_THRESHOLD_SETTING],
  ] as const;
  const texts: Record<string, string | undefined> = {};
  for (const [key, flag, names] of costSettings) {
    const picked = pick(flag, names);
    texts[key] = picked.text;
    where.set(names, picked.where);
  }
  return {
    ...farmPolicyFrom({ forks: forks.text, maxBuildCostUsd: build.text, maxForkBuildCostUsd: fork.text }, (names) => where.get(names) ?? names.flag),
    ...costSettingsFrom(texts, (names) => where.get(names) ?? names.flag),
  };
}

/** What every local build runs with, from the farm's settings: `serve`'s build processes and `run`'s own farm alike. */
export function localBuildSettings(config: PlannerConfig, prices: PriceBook, policy: FarmPolicy, sandbox: StageSandbox, maxStageConcurrency: number): LocalBuildSettings {
  return {
    region: config.region,
    prices,
    lambdaEphemeralStorageMB: config.lambdaEphemeralStorageMB,
    lambdaRunnerTiersMB: config.lambdaRunnerTiersMB,
    policy,
    sandbox,
    maxStageConcurrency,
  };
}
