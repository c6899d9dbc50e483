/**
 * Whether a build fits the budgets: refused when what was already spent in the window plus the
 * build's predicted cost would be over a budget. A prediction that lands exactly on a budget is
 * within it. The reason names the budget (which, its limit, what was spent, the prediction) and
 * the setting, so a person finds it wherever it was configured.
 */
import type { Admission } from '../plan/admission.js';
import { formatLimitUsd } from '../plan/admission.js';
import { settingLabel, type SettingNames } from '../plan/farm-policy.js';
import { formatUsd } from '../report/format.js';
import {
  DAILY_BUDGET_SETTING,
  MONTHLY_BUDGET_SETTING,
  REPO_DAILY_BUDGET_SETTING,
  REPO_MONTHLY_BUDGET_SETTING,
  type Budgets,
} from './budgets.js';
import type { Spend } from './spend-ledger.js';

/** A budget as the dashboard and a refusal show it. */
export interface BudgetStanding {
  which: 'daily' | 'monthly';
  scope: 'farm' | string;
  limitUsd: number;
  spentUsd: number;
  /** Of `spentUsd`, what builds still running hold (reservations). */
  heldUsd: number;
  names: SettingNames;
}

/** Every budget that applies to a build of `repository`, with what was spent against it. */
export function budgetStandings(budgets: Budgets, repository: string, spend: Spend): BudgetStanding[] {
  const repo = repository.toLowerCase();
  const [farmHeld, repoHeld] = [spend.farmHeldUsd ?? 0, spend.repoHeldUsd ?? 0];
  const standings: BudgetStanding[] = [];
  if (budgets.dailyUsd !== undefined) standings.push({ which: 'daily', scope: 'farm', limitUsd: budgets.dailyUsd, spentUsd: spend.farmDayUsd, heldUsd: farmHeld, names: DAILY_BUDGET_SETTING });
  if (budgets.monthlyUsd !== undefined) standings.push({ which: 'monthly', scope: 'farm', limitUsd: budgets.monthlyUsd, spentUsd: spend.farmMonthUsd, heldUsd: farmHeld, names: MONTHLY_BUDGET_SETTING });
  const repoDaily = budgets.repoDailyUsd?.[repo];
  if (repoDaily !== undefined) standings.push({ which: 'daily', scope: repo, limitUsd: repoDaily, spentUsd: spend.repoDayUsd, heldUsd: repoHeld, names: REPO_DAILY_BUDGET_SETTING });
  const repoMonthly = budgets.repoMonthlyUsd?.[repo];
  if (repoMonthly !== undefined) standings.push({ which: 'monthly', scope: repo, limitUsd: repoMonthly, spentUsd: spend.repoMonthUsd, heldUsd: repoHeld, names: REPO_MONTHLY_BUDGET_SETTING });
  return standings;
}

export function describeBudget(standing: Pick<BudgetStanding, 'which' | 'scope'>): string {
  return standing.scope === 'farm' ? `the farm's ${standing.which} budget` : `the ${standing.which} budget of ${standing.scope}`;
}

export function admitByBudget(repository: string, predictedCostUsd: number, budgets: Budgets, spend: Spend): Admission {
  // The budget with the least room left decides, so the reason names the tightest one.
  const over = budgetStandings(budgets, repository, spend)
    .map((s) => ({ ...s, room: s.limitUsd - s.spentUsd }))
    .filter((s) => !(s.spentUsd + predictedCostUsd <= s.limitUsd + 1e-9))
    .sort((a, b) => a.room - b.room)[0];
  if (!over) return { run: true };
  const window = over.which === 'daily' ? 'today (UTC)' : 'this month (UTC)';
  const held = over.heldUsd > 0 ? `, ${formatUsd(over.heldUsd)} of it held by builds still running` : '';
  return {
    run: false,
    reason:
      `predicted ${formatUsd(predictedCostUsd)} would take spend past ${describeBudget(over)} ${formatLimitUsd(over.limitUsd)}: ` +
      `${formatUsd(over.spentUsd)} spent ${window}${held} (${settingLabel(over.names)})`,
  };
}
