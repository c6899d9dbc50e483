/**
 * Budgets in dollars: the most the farm may spend in a UTC day and in a calendar month (UTC),
 * farm-wide and per repository. A build whose predicted cost would take the spend past any of
 * them is refused before a stage starts (domain/budget/admit-by-budget.ts).
 *
 * Settings (docs/cost.md, "Budgets"):
 * - `--daily-budget USD`, `--monthly-budget USD` (BUILDFARM_DAILY_BUDGET_USD,
 *   BUILDFARM_MONTHLY_BUDGET_USD; template parameters DailyBudgetUSD, MonthlyBudgetUSD, 0 = none).
 * - `--repo-daily-budget owner/name=USD[,owner/name=USD...]` and `--repo-monthly-budget` (the
 *   same lists in BUILDFARM_REPO_DAILY_BUDGETS_USD, BUILDFARM_REPO_MONTHLY_BUDGETS_USD;
 *   template parameters RepoDailyBudgetsUSD, RepoMonthlyBudgetsUSD, empty = none).
 */
import { InvalidFarmSetting, parseCostLimitUsd, type SettingNames } from '../plan/farm-policy.js';

export interface Budgets {
  /** Farm-wide, per UTC day. */
  dailyUsd?: number;
  /** Farm-wide, per calendar month (UTC). */
  monthlyUsd?: number;
  /** By repository (`owner/name`, lower case). */
  repoDailyUsd?: Record<string, number>;
  repoMonthlyUsd?: Record<string, number>;
}

export const DAILY_BUDGET_SETTING: SettingNames = { flag: '--daily-budget', env: 'BUILDFARM_DAILY_BUDGET_USD', parameter: 'DailyBudgetUSD' };
export const MONTHLY_BUDGET_SETTING: SettingNames = { flag: '--monthly-budget', env: 'BUILDFARM_MONTHLY_BUDGET_USD', parameter: 'MonthlyBudgetUSD' };
export const REPO_DAILY_BUDGET_SETTING: SettingNames = { flag: '--repo-daily-budget', env: 'BUILDFARM_REPO_DAILY_BUDGETS_USD', parameter: 'RepoDailyBudgetsUSD' };
export const REPO_MONTHLY_BUDGET_SETTING: SettingNames = {
  flag: '--repo-monthly-budget',
  env: 'BUILDFARM_REPO_MONTHLY_BUDGETS_USD',
  parameter: 'RepoMonthlyBudgetsUSD',
};

/** A farm-wide budget: dollars, where 0 or empty means none (the template's default is 0). */
export function parseBudgetUsd(text: string, where: string): number | undefined {
  const usd = parseCostLimitUsd(text, where);
  return usd === undefined || usd === 0 ? undefined : usd;
}

const REPOSITORY = /^[A-Za-z0-9][A-Za-z0-9-]*\/[A-Za-z0-9._-]+$/;

/** `owner/name=USD` pairs, comma-separated; empty means none. A repository named twice is an error. */
export function parseRepoBudgets(text: string, where: string): Record<string, number> | undefined {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (items.length === 0) return undefined;
  const budgets: Record<string, number> = {};
  for (const item of items) {
    const at = item.lastIndexOf('=');
    const repository = at > 0 ? item.slice(0, at).trim().toLowerCase() : '';
    if (!REPOSITORY.test(repository)) {
      throw new InvalidFarmSetting(`${where}: "${item}" is not owner/name=USD; allowed: comma-separated pairs such as acme/api=5,acme/web=2.50`);
    }
    if (repository in budgets) throw new InvalidFarmSetting(`${where}: ${repository} has two budgets; give each repository one`);
    const usd = parseCostLimitUsd(item.slice(at + 1), `${where} (${repository})`);
    if (usd === undefined || usd === 0) throw new InvalidFarmSetting(`${where}: ${repository} has no amount; write a number of US dollars over 0, or leave the repository out`);
    budgets[repository] = usd;
  }
  return budgets;
}

/** Budgets from text settings (flags or environment variables), each absent one meaning none. */
export function budgetsFrom(
  settings: { daily?: string; monthly?: string; repoDaily?: string; repoMonthly?: string },
  where: (names: SettingNames) => string,
): Budgets {
  const daily = settings.daily === undefined ? undefined : parseBudgetUsd(settings.daily, where(DAILY_BUDGET_SETTING));
  const monthly = settings.monthly === undefined ? undefined : parseBudgetUsd(settings.monthly, where(MONTHLY_BUDGET_SETTING));
  const repoDaily = settings.repoDaily === undefined ? undefined : parseRepoBudgets(settings.repoDaily, where(REPO_DAILY_BUDGET_SETTING));
  const repoMonthly = settings.repoMonthly === undefined ? undefined : parseRepoBudgets(settings.repoMonthly, where(REPO_MONTHLY_BUDGET_SETTING));
  return {
    ...(daily !== undefined ? { dailyUsd: daily } : {}),
    ...(monthly !== undefined ? { monthlyUsd: monthly } : {}),
    ...(repoDaily ? { repoDailyUsd: repoDaily } : {}),
    ...(repoMonthly ? { repoMonthlyUsd: repoMonthly } : {}),
  };
}

export function hasBudgets(budgets: Budgets | undefined): boolean {
  return Boolean(budgets && (budgets.dailyUsd !== undefined || budgets.monthlyUsd !== undefined || budgets.repoDailyUsd || budgets.repoMonthlyUsd));
}
