/**
 * The budget check of the Plan task: the build reserves its predicted cost in the spend ledger,
 * then counts what was spent today and this month (UTC) plus what builds still running hold,
 * against the farm's budgets, by the rule of domain/budget/admission-order.ts (which says why
 * two builds planned at the same time cannot both pass a budget). A refused build deletes its
 * reservation; an admitted one keeps it until its Report records the actual cost and releases it
 * (record-spend.ts), or until it expires (domain/budget/build-duration-bound.ts).
 *
 * Only done when a budget is set, so a farm without budgets pays no request per build.
 */
import { admitByBudget } from '../domain/budget/admit-by-budget.js';
import { isLate, listNotBeforeMs, reservationsCounted, settledBuilds, spendWithReservations } from '../domain/budget/admission-order.js';
import { hasBudgets } from '../domain/budget/budgets.js';
import { reservationKey, type Reservation } from '../domain/budget/reservations.js';
import { dayOf, monthOf } from '../domain/budget/spend-ledger.js';
import type { Admission } from '../domain/plan/admission.js';
import type { Plan } from '../domain/plan/types.js';
import { buildDurationBoundSeconds } from '../domain/budget/build-duration-bound.js';
import type { FarmPolicy } from '../domain/plan/farm-policy.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

/** The Plan task's clock; the system's (and setTimeout) where absent. */
export interface BudgetClock {
  now?(): Date;
  sleep?(ms: number): Promise<void>;
}

const systemSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface BudgetRequest {
  buildId: string;
  repository: string;
  predictedCostUsd: number;
  /** How long the build may run: its reservation expires after it. */
  durationBoundSeconds: number;
}

/** What the budgets check of a planned build: its prediction and how long it may run. */
export function budgetRequestOf(buildId: string, repository: string, plan: Pick<Plan, 'predictedCostUsd' | 'stages'>): BudgetRequest {
  return { buildId, repository, predictedCostUsd: plan.predictedCostUsd, durationBoundSeconds: buildDurationBoundSeconds(plan) };
}

/** An admitted build's reservation key is what the Report releases (undefined when no budget applies). */
export type BudgetAdmission = Admission & { reservationKey?: string };

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function admitWithinBudgets(request: BudgetRequest, policy: FarmPolicy, ledger: SpendLedger, deps: BudgetClock = {}): Promise<BudgetAdmission> {
  if (!policy.budgets || !hasBudgets(policy.budgets)) return { run: true };
  const clock = { now: deps.now ?? (() => new Date()), sleep: deps.sleep ?? systemSleep };
  const reservedAt = clock.now().getTime();
  const own: Reservation = {
    buildId: request.buildId,
    repository: request.repository.toLowerCase(),
    costUsd: request.predictedCostUsd,
    reservedAtMs: reservedAt,
    expiresAtMs: reservedAt + request.durationBoundSeconds * 1000,
  };
  let key: string;
  try {
    key = await ledger.reserve(own);
  } catch (error) {
    // A budget that cannot be held is not known to have room: refuse, and say why. (A PUT that
    // failed after S3 stored it would hold the money: delete it, best effort.)
    await ledger.release(reservationKey(own)).catch(() => undefined);
    return { run: false, reason: `the build's cost could not be reserved in the spend ledger to check the budgets (${describe(error)})` };
  }
  const late = isLate(own, clock.now().getTime());
  const wait = listNotBeforeMs(own) - clock.now().getTime();
  if (wait > 0) await clock.sleep(wait);
  let admission: Admission;
  try {
    // Reservations first, entries second (admission-order.ts, step 4).
    const now = clock.now();
    const seen = await ledger.reservations();
    const entries = await ledger.entriesOf(monthOf(now));
    const counted = reservationsCounted(own, seen, settledBuilds(entries), now.getTime(), late);
    admission = admitByBudget(request.repository, request.predictedCostUsd, policy.budgets, spendWithReservations(entries, counted, request.repository, dayOf(now)));
  } catch (error) {
    admission = { run: false, reason: `the spend ledger could not be read to check the budgets (${describe(error)})` };
  }
  if (admission.run) return { run: true, reservationKey: key };
  // Refused: stop holding money another build could use. If the delete fails, the reservation
  // only makes others more careful until it expires.
  await ledger.release(key).catch(() => undefined);
  return admission;
}
