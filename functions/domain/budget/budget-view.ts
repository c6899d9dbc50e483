/**
 * Spend against every configured budget, for the dashboard's header: the farm's daily and
 * monthly budgets and each repository's, with what the ledger says was spent in the window and,
 * of that, what builds still running hold (their open reservations, as the Plan task counts them).
 */
import { describeBudget } from './admit-by-budget.js';
import { spendWithReservations, settledBuilds } from './admission-order.js';
import type { Budgets } from './budgets.js';
import { openReservations, type Reservation } from './reservations.js';
import type { SpendEntry } from './spend-ledger.js';

export interface BudgetLine {
  /** e.g. "the farm's daily budget", "the monthly budget of acme/api". */
  budget: string;
  limitUsd: number;
  /** Reported costs plus what builds still running hold. */
  spentUsd: number;
  /** Of `spentUsd`, what builds still running hold. */
  heldUsd: number;
}

export function spendAgainstBudgets(budgets: Budgets, entries: readonly SpendEntry[], reservations: readonly Reservation[], now: Date): BudgetLine[] {
  const today = now.toISOString().slice(0, 10);
  const open = openReservations(reservations, settledBuilds(entries), now.getTime());
  const spendOf = (repository: string) => spendWithReservations(entries, open, repository, today);
  const lines: BudgetLine[] = [];
  const farm = spendOf('');
  const farmHeld = farm.farmHeldUsd ?? 0;
  if (budgets.dailyUsd !== undefined) lines.push({ budget: describeBudget({ which: 'daily', scope: 'farm' }), limitUsd: budgets.dailyUsd, spentUsd: farm.farmDayUsd, heldUsd: farmHeld });
  if (budgets.monthlyUsd !== undefined) lines.push({ budget: describeBudget({ which: 'monthly', scope: 'farm' }), limitUsd: budgets.monthlyUsd, spentUsd: farm.farmMonthUsd, heldUsd: farmHeld });
  for (const [repository, limitUsd] of Object.entries(budgets.repoDailyUsd ?? {})) {
    const spend = spendOf(repository);
    lines.push({ budget: describeBudget({ which: 'daily', scope: repository }), limitUsd, spentUsd: spend.repoDayUsd, heldUsd: spend.repoHeldUsd ?? 0 });
  }
  for (const [repository, limitUsd] of Object.entries(budgets.repoMonthlyUsd ?? {})) {
    const spend = spendOf(repository);
    lines.push({ budget: describeBudget({ which: 'monthly', scope: repository }), limitUsd, spentUsd: spend.repoMonthUsd, heldUsd: spend.repoHeldUsd ?? 0 });
  }
  return lines;
}
