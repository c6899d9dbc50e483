/**
 * The budget reservation of a local build that ended without its Report (stopped, or the farm
 * shut down under it): the stored plan names it (`budgetReservation`), and nothing else would
 * release it before it expires (domain/budget/reservations.ts). A stopped build costs nothing
 * locally, so there is no actual to record first. Best effort: a reservation that stays only
 * makes the budgets more careful until it expires.
 */
import type { Plan } from '../domain/plan/types.js';
import { planKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

export async function releaseUnreportedReservation(store: ArtifactStore, buildId: string, ledger: SpendLedger): Promise<boolean> {
  try {
    const text = await store.getText(planKey(buildId));
    const reservation = text === undefined ? undefined : (JSON.parse(text) as Partial<Plan>).budgetReservation;
    if (typeof reservation !== 'string') return false;
    await ledger.release(reservation);
    return true;
  } catch {
    return false;
  }
}
