/**
 * The budget check of the Plan task: what the spend ledger says was spent today and this month
 * (UTC), against the farm's budgets, with the build's predicted cost. Only read when a budget
 * is set, so a farm without budgets pays no LIST request per build.
 *
 * Builds still running are not in the ledger (it records reported costs), so builds planned at
 * the same moment can together pass a budget by up to their predictions: docs/cost.md says so.
 */
import { admitByBudget } from '../domain/budget/admit-by-budget.js';
import { hasBudgets } from '../domain/budget/budgets.js';
import { dayOf, monthOf, sumSpend } from '../domain/budget/spend-ledger.js';
import type { Admission } from '../domain/plan/admission.js';
import type { FarmPolicy } from '../domain/plan/farm-policy.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

export async function admitWithinBudgets(repository: string, predictedCostUsd: number, policy: FarmPolicy, ledger: SpendLedger, now: Date): Promise<Admission> {
  if (!policy.budgets || !hasBudgets(policy.budgets)) return { run: true };
  let entries;
  try {
    entries = await ledger.entriesOf(monthOf(now));
  } catch (error) {
    // A budget that cannot be checked is not known to have room: refuse, and say why.
    const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { run: false, reason: `the spend ledger could not be read to check the budgets (${why})` };
  }
  return admitByBudget(repository, predictedCostUsd, policy.budgets, sumSpend(entries, repository, dayOf(now)));
}
