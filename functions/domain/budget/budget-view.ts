/**
 * Spend against every configured budget, for the dashboard's header: the farm's daily and
 * monthly budgets and each repository's, with what the ledger says was spent in the window.
 */
import { describeBudget } from './admit-by-budget.js';
import type { Budgets } from './budgets.js';
import { sumSpend, type SpendEntry } from './spend-ledger.js';

export interface BudgetLine {
  /** e.g. "the farm's daily budget", "the monthly budget of acme/api". */
  budget: string;
  limitUsd: number;
  spentUsd: number;
}

export function spendAgainstBudgets(budgets: Budgets, entries: readonly SpendEntry[], today: string): BudgetLine[] {
  const lines: BudgetLine[] = [];
  const farm = sumSpend(entries, '', today);
  if (budgets.dailyUsd !== undefined) lines.push({ budget: describeBudget({ which: 'daily', scope: 'farm' }), limitUsd: budgets.dailyUsd, spentUsd: farm.farmDayUsd });
  if (budgets.monthlyUsd !== undefined) lines.push({ budget: describeBudget({ which: 'monthly', scope: 'farm' }), limitUsd: budgets.monthlyUsd, spentUsd: farm.farmMonthUsd });
  for (const [repository, limitUsd] of Object.entries(budgets.repoDailyUsd ?? {})) {
    lines.push({ budget: describeBudget({ which: 'daily', scope: repository }), limitUsd, spentUsd: sumSpend(entries, repository, today).repoDayUsd });
  }
  for (const [repository, limitUsd] of Object.entries(budgets.repoMonthlyUsd ?? {})) {
    lines.push({ budget: describeBudget({ which: 'monthly', scope: repository }), limitUsd, spentUsd: sumSpend(entries, repository, today).repoMonthUsd });
  }
  return lines;
}
