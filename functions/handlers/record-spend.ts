/**
 * The Report task's last step: the build's reported cost goes into the spend ledger the budgets
 * are checked against (domain/budget/spend-ledger.ts), on the UTC day the build finished. Every
 * build that cost anything is recorded, refused and skipped ones too (their orchestration is
 * billed). Then the build's budget reservation, if the Plan task took one, is released: the
 * actual replaces the prediction (domain/budget/reservations.ts). In that order, so a Plan task
 * listing reservations and then entries sees the build in one or the other.
 *
 * A ledger write that fails is logged, not thrown: the build's outcome is already published,
 * and a Report retry would publish it again. When the actual could not be recorded the
 * reservation is kept: the budgets go on counting the prediction until it expires.
 */
import type { BuildReport } from '../domain/report/types.js';
import type { ReportLogger } from '../domain/report/publish-report.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function recordSpend(report: BuildReport, ledger: SpendLedger, logger?: ReportLogger): Promise<boolean> {
  if (!(report.totalCostUsd > 0)) return false;
  const finished = new Date(report.finishedAt);
  const day = Number.isNaN(finished.getTime()) ? new Date().toISOString().slice(0, 10) : finished.toISOString().slice(0, 10);
  try {
    await ledger.record({ buildId: report.buildId, repository: report.repository, day, costUsd: report.totalCostUsd });
    return true;
  } catch (error) {
    logger?.warn('spend not recorded', { buildId: report.buildId, error: describe(error) });
    return false;
  }
}

/** Records the build's actual cost, then releases its reservation (`reservationKey`, from the plan). */
export async function settleSpend(report: BuildReport, reservationKey: string | undefined, ledger: SpendLedger, logger?: ReportLogger): Promise<void> {
  const recorded = await recordSpend(report, ledger, logger);
  if (reservationKey === undefined || (!recorded && report.totalCostUsd > 0)) return;
  try {
    await ledger.release(reservationKey);
  } catch (error) {
    // Harmless beyond its listing: a reservation whose build has an actual entry no longer counts.
    logger?.warn('budget reservation not released', { buildId: report.buildId, reservation: reservationKey, error: describe(error) });
  }
}
