/**
 * The farm's own rules about which builds it runs at all: what pull requests from forks get
 * (`forks`), and the most a build may be predicted to cost. The same settings are template
 * parameters on AWS and flags or environment variables locally; every error names both, so a
 * person reading it finds the setting wherever they configured it.
 */
import type { Budgets } from '../budget/budgets.js';
import { UserError } from '../errors.js';
import type { OptimizeGoal } from './optimize.js';

/**
 * - `build`: fork pull requests build with the secrets their stages declare. The fork's author
 *   writes the commands, so they can print or send those secrets anywhere: opt-in only.
 * - `no-secrets`: fork pull requests build; no stage gets a secret (a stage that declares one fails).
 * - `off`: fork pull requests are not built; each ends in a `refused` report.
 */
export const FORK_POLICIES = ['build', 'no-secrets', 'off'] as const;
export type ForkPolicy = (typeof FORK_POLICIES)[number];

export const DEFAULT_FORK_POLICY: ForkPolicy = 'no-secrets';

/**
 * The fork limit's default. A fork's author picks the stages' sizes and timeouts, so without a
 * limit one pull request can ask for 16 vCPU for 24 hours (about $28 on Fargate in us-east-1).
 * $0.50 still covers ordinary pull request builds with room: about 10 vCPU-hours of Fargate at
 * $0.04048 + 2 GB, or 80 minutes of a GitHub-hosted 2-core runner at $0.006 a minute
 * (docs/deploy.md, "Fork pull requests", shows the arithmetic).
 */
export const DEFAULT_MAX_FORK_BUILD_COST_USD = 0.5;

export interface FarmPolicy {
  forks: ForkPolicy;
  /** Any build predicted to cost more is refused; undefined: no limit. */
  maxBuildCostUsd?: number;
  /** A fork pull request predicted to cost more is refused; undefined: no limit. */
  maxForkBuildCostUsd?: number;
  /** Daily and monthly budgets, farm-wide and per repository (domain/budget/budgets.ts); absent: none. */
  budgets?: Budgets;
  /** What runner choice weighs (domain/plan/optimize.ts); a pipeline's `optimize:` wins. Absent: balanced. */
  optimize?: OptimizeGoal;
  /**
   * A pull request whose cost is more than this many per cent above its base branch's last
   * successful build fails its cost status (domain/report/pr-cost.ts); a pipeline's
   * `cost: { pr-threshold }` wins. Absent: the status reports the change and never fails.
   */
  prCostThresholdPercent?: number;
}

export const DEFAULT_FARM_POLICY: FarmPolicy = { forks: DEFAULT_FORK_POLICY, maxForkBuildCostUsd: DEFAULT_MAX_FORK_BUILD_COST_USD };

/** How one setting is named on each side: a flag, its environment variable and the template parameter. */
export interface SettingNames {
  flag: string;
  env: string;
  parameter: string;
}

export const FORKS_SETTING: SettingNames = { flag: '--forks', env: 'BUILDFARM_FORKS', parameter: 'ForkPolicy' };
export const MAX_BUILD_COST_SETTING: SettingNames = { flag: '--max-build-cost', env: 'BUILDFARM_MAX_BUILD_COST_USD', parameter: 'MaxBuildCostUsd' };
export const MAX_FORK_BUILD_COST_SETTING: SettingNames = {
  flag: '--max-fork-build-cost',
  env: 'BUILDFARM_MAX_FORK_BUILD_COST_USD',
  parameter: 'MaxForkBuildCostUsd',
};

/** `BUILDFARM_FORKS / ForkPolicy`: what a report's reason cites (the flag sets the same variable). */
export function settingLabel(names: SettingNames): string {
  return `${names.env} / ${names.parameter}`;
}

/** A setting the farm cannot use; the message names where it came from and what is allowed. */
export class InvalidFarmSetting extends UserError {
  override name = 'InvalidFarmSetting';
}

export function parseForkPolicy(text: string, where: string): ForkPolicy {
  const value = text.trim();
  if ((FORK_POLICIES as readonly string[]).includes(value)) return value as ForkPolicy;
  throw new InvalidFarmSetting(`${where}: "${text}" is not a fork policy; allowed: ${FORK_POLICIES.join(', ')}`);
}

/**
 * A limit in US dollars: a number of zero or more (`0.5`, `2`, `$1.25`); empty means no limit.
 * Zero refuses every build predicted to cost anything.
 */
export function parseCostLimitUsd(text: string, where: string): number | undefined {
  const value = text.trim().replace(/^\$/, '');
  if (value === '') return undefined;
  const usd = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(usd)) {
    throw new InvalidFarmSetting(`${where}: "${text}" is not an amount in US dollars; allowed: a number of 0 or more (e.g. 0.50), or empty for no limit`);
  }
  return usd;
}

/**
 * The policy from text settings (environment variables or flags), each absent one at its default.
 * `where` names a setting for errors (e.g. `--forks (BUILDFARM_FORKS)`).
 */
export function farmPolicyFrom(
  settings: { forks?: string; maxBuildCostUsd?: string; maxForkBuildCostUsd?: string },
  where: (names: SettingNames) => string,
): FarmPolicy {
  const forks = settings.forks === undefined ? DEFAULT_FORK_POLICY : parseForkPolicy(settings.forks, where(FORKS_SETTING));
  const maxBuildCostUsd = settings.maxBuildCostUsd === undefined ? undefined : parseCostLimitUsd(settings.maxBuildCostUsd, where(MAX_BUILD_COST_SETTING));
  const maxForkBuildCostUsd =
    settings.maxForkBuildCostUsd === undefined
      ? DEFAULT_MAX_FORK_BUILD_COST_USD
      : parseCostLimitUsd(settings.maxForkBuildCostUsd, where(MAX_FORK_BUILD_COST_SETTING));
  return {
    forks,
    ...(maxBuildCostUsd !== undefined ? { maxBuildCostUsd } : {}),
    ...(maxForkBuildCostUsd !== undefined ? { maxForkBuildCostUsd } : {}),
  };
}
