/**
 * The Report task's pull request cost check (domain/report/pr-cost.ts): before the report is
 * published, a pull request's build is compared with its base branch's last successful build;
 * after it, a successful push build (not a fork's) becomes its branch's record. Neither may fail
 * the Report: a record that cannot be read means no comparison, one that cannot be written is logged.
 */
import type { BuildRequest } from '../domain/build-request.js';
import { PR_COST_THRESHOLD_SETTING, parseThresholdPercent } from '../domain/plan/farm-settings.js';
import type { Plan } from '../domain/plan/types.js';
import { branchCostKey, branchCostRecord, comparePrCost, parseBranchCostRecord, type PrCostComparison } from '../domain/report/pr-cost.js';
import type { ReportLogger } from '../domain/report/publish-report.js';
import type { BuildReport } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

const describe = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** `BUILDFARM_PR_COST_THRESHOLD_PCT` (template parameter PrCostThresholdPct); empty or absent: none. */
export function prThresholdFromEnvironment(env: NodeJS.ProcessEnv): { prCostThresholdPercent?: number } {
  const text = env[PR_COST_THRESHOLD_SETTING.env];
  const percent = text === undefined ? undefined : parseThresholdPercent(text, `${PR_COST_THRESHOLD_SETTING.env} (template parameter ${PR_COST_THRESHOLD_SETTING.parameter})`);
  return percent === undefined ? {} : { prCostThresholdPercent: percent };
}

export async function comparePullRequestCost(
  report: BuildReport,
  request: Pick<BuildRequest, 'event' | 'baseBranch' | 'repository'>,
  plan: Plan | undefined,
  deps: { store: ArtifactStore; prCostThresholdPercent?: number; logger?: ReportLogger },
): Promise<PrCostComparison | undefined> {
  // Only a pull request whose stages ran has a cost worth comparing.
  if (request.event !== 'pull_request' || !request.baseBranch || !plan || report.status === 'refused' || report.status === 'skipped') return undefined;
  let text: string | undefined;
  try {
    text = await deps.store.getText(branchCostKey(request.repository, request.baseBranch));
  } catch (error) {
    deps.logger?.warn('base branch cost not read', { buildId: report.buildId, error: describe(error) });
    return undefined;
  }
  const base = text === undefined ? undefined : parseBranchCostRecord(text);
  if (!base) return undefined;
  return comparePrCost(report, base, request.baseBranch, plan.prCostThresholdPercent ?? deps.prCostThresholdPercent);
}

export async function recordBranchCost(
  report: BuildReport,
  request: Pick<BuildRequest, 'event' | 'branch' | 'repository' | 'fromFork'>,
  store: ArtifactStore,
  logger?: ReportLogger,
): Promise<boolean> {
  if (request.event !== 'push' || request.fromFork || report.status !== 'succeeded') return false;
  try {
    await store.put(branchCostKey(request.repository, request.branch), JSON.stringify(branchCostRecord(report)), 'application/json');
    return true;
  } catch (error) {
    logger?.warn('branch cost not recorded', { buildId: report.buildId, error: describe(error) });
    return false;
  }
}
