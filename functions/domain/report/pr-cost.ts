/**
 * The pull request cost check: a pull request's build is compared, stage by stage, with the last
 * successful push build of its base branch, and a commit status (context `buildfarm-cost`) says
 * by how much it differs ("+23% vs main"). With a threshold (`--pr-cost-threshold`, template
 * parameter PrCostThresholdPct, or the pipeline's `cost: { pr-threshold: 25% }`, which wins) a
 * pull request more than that much dearer fails the status.
 *
 * The base is found through a small record per branch, written by the Report of each successful
 * push build that is not a fork's: `history/{owner}/{repo}/@branches/{branch}.json` (under
 * history/, so it expires with the stage history of a repository nobody builds; `@` keeps it apart
 * from stage names, which cannot contain it).
 */
import { clipWords, oneLine } from './text.js';
import type { CommitStatus } from './commit-statuses.js';
import { MAX_STATUS_DESCRIPTION } from './commit-statuses.js';
import { formatUsd } from './format.js';
import type { BuildReport } from './types.js';

export const COST_CONTEXT = 'buildfarm-cost';

/** The last successful build of a branch, as the comparison needs it. */
export interface BranchCostRecord {
  buildId: string;
  sha: string;
  finishedAt: string;
  totalCostUsd: number;
  /** Cost by stage name, of the stages that ran. */
  stages: Record<string, number>;
}

export interface StageCostChange {
  name: string;
  costUsd: number;
  /** Absent when the base build had no such stage. */
  baseCostUsd?: number;
  /** Absent when there is no base cost to compare with (a new stage, or a base of $0). */
  changePercent?: number;
}

export interface PrCostComparison {
  baseBranch: string;
  baseBuildId: string;
  baseSha: string;
  baseTotalUsd: number;
  totalUsd: number;
  changePercent?: number;
  stages: StageCostChange[];
  thresholdPercent?: number;
  /** True when a threshold is set and the change is over it. */
  overThreshold: boolean;
}

export function branchCostKey(repository: string, branch: string): string {
  return `history/${repository}/@branches/${branch}.json`;
}

/** What a finished successful push build records for its branch. */
export function branchCostRecord(report: BuildReport): BranchCostRecord {
  const stages: Record<string, number> = {};
  for (const stage of report.stages) if (stage.status !== 'skipped') stages[stage.name] = stage.costUsd;
  return { buildId: report.buildId, sha: report.sha, finishedAt: report.finishedAt, totalCostUsd: report.totalCostUsd, stages };
}

/** A stored record, or undefined when it is not one (a record is a prediction aid, never trusted blindly). */
export function parseBranchCostRecord(text: string): BranchCostRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<BranchCostRecord>;
    const numbers = (o: unknown) => typeof o === 'object' && o !== null && Object.values(o).every((n) => typeof n === 'number' && Number.isFinite(n));
    if (typeof value.buildId !== 'string' || typeof value.sha !== 'string' || typeof value.totalCostUsd !== 'number' || !numbers(value.stages)) return undefined;
    return { buildId: value.buildId, sha: value.sha, finishedAt: String(value.finishedAt ?? ''), totalCostUsd: value.totalCostUsd, stages: value.stages as Record<string, number> };
  } catch {
    return undefined;
  }
}

/** Percent change from `base` to `now`, one decimal; undefined when base is 0. */
export function percentChange(now: number, base: number): number | undefined {
  if (!(base > 0)) return undefined;
  return Math.round(((now - base) / base) * 1000) / 10;
}

export function comparePrCost(report: BuildReport, base: BranchCostRecord, baseBranch: string, thresholdPercent?: number): PrCostComparison {
  const stages = report.stages
    .filter((s) => s.status !== 'skipped')
    .map((s): StageCostChange => {
      const baseCostUsd = base.stages[s.name];
      const changePercent = baseCostUsd === undefined ? undefined : percentChange(s.costUsd, baseCostUsd);
      return { name: s.name, costUsd: s.costUsd, ...(baseCostUsd !== undefined ? { baseCostUsd } : {}), ...(changePercent !== undefined ? { changePercent } : {}) };
    });
  const changePercent = percentChange(report.totalCostUsd, base.totalCostUsd);
  return {
    baseBranch,
    baseBuildId: base.buildId,
    baseSha: base.sha,
    baseTotalUsd: base.totalCostUsd,
    totalUsd: report.totalCostUsd,
    ...(changePercent !== undefined ? { changePercent } : {}),
    stages,
    ...(thresholdPercent !== undefined ? { thresholdPercent } : {}),
    overThreshold: thresholdPercent !== undefined && changePercent !== undefined && changePercent > thresholdPercent,
  };
}

export function formatPercent(change: number): string {
  return `${change > 0 ? '+' : change < 0 ? '−' : '±'}${Math.abs(change)}%`;
}

/** e.g. `+23% vs main ($0.0123 vs $0.0100; most: test +40%) — over the 20% threshold`. */
export function describePrCost(c: PrCostComparison): string {
  const change = c.changePercent === undefined ? 'new cost' : formatPercent(c.changePercent);
  const most = [...c.stages].filter((s) => s.changePercent !== undefined).sort((a, b) => b.changePercent! - a.changePercent!)[0];
  const stage = most && most.changePercent! > 0 ? `; most: ${most.name} ${formatPercent(most.changePercent!)}` : '';
  const verdict = c.thresholdPercent === undefined ? '' : c.overThreshold ? ` — over the ${c.thresholdPercent}% threshold` : ` — within ${c.thresholdPercent}%`;
  return clipWords(oneLine(`${change} vs ${c.baseBranch} (${formatUsd(c.totalUsd)} vs ${formatUsd(c.baseTotalUsd)}${stage})${verdict}`), MAX_STATUS_DESCRIPTION);
}

export function prCostStatus(c: PrCostComparison, targetUrl: string): CommitStatus {
  return { context: COST_CONTEXT, state: c.overThreshold ? 'failure' : 'success', description: describePrCost(c), targetUrl };
}

/** The lines report.txt adds for the comparison. */
export function prCostLines(c: PrCostComparison): string[] {
  const lines = [`cost vs ${c.baseBranch} (build ${c.baseBuildId}, ${c.baseSha.slice(0, 7)}): ${describePrCost(c)}`];
  for (const s of c.stages) {
    const base = s.baseCostUsd === undefined ? 'new stage' : `${formatUsd(s.baseCostUsd)}${s.changePercent === undefined ? '' : `, ${formatPercent(s.changePercent)}`}`;
    lines.push(`  ${s.name}: ${formatUsd(s.costUsd)} (${base})`);
  }
  return lines;
}
