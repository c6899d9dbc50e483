/**
 * The Report task's last step: the build's reported cost goes into the spend ledger the budgets
 * are checked against (domain/budget/spend-ledger.ts), on the UTC day the build finished. Every
 * build that cost anything is recorded, refused and skipped ones too (their orchestration is
 * billed). A ledger write that fails is logged, not thrown: the build's outcome is already
 * published, and a Report retry would publish it again.
 */
import type { BuildReport } from '../domain/report/types.js';
import type { ReportLogger } from '../domain/report/publish-report.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

export async function recordSpend(report: BuildReport, ledger: SpendLedger, logger?: ReportLogger): Promise<boolean> {
  if (!(report.totalCostUsd > 0)) return false;
  const finished = new Date(report.finishedAt);
  const day = Number.isNaN(finished.getTime()) ? new Date().toISOString().slice(0, 10) : finished.toISOString().slice(0, 10);
  try {
    await ledger.record({ buildId: report.buildId, repository: report.repository, day, costUsd: report.totalCostUsd });
    return true;
  } catch (error) {
    logger?.warn('spend not recorded', { buildId: report.buildId, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    return false;
  }
}
