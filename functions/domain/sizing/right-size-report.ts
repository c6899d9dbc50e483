/**
 * Right-sizing for a finished build: each stage that succeeded, from what it measured in this
 * run (duration, peak memory, peak and average vCPUs where measured) on the size it ran at, and the saving per run a cheaper fitting
 * size would make (domain/sizing/right-size.ts). A failed stage is left out: it may have stopped
 * before its peak.
 */
import type { Plan } from '../plan/types.js';
import type { RegionPrices } from '../pricing/price-book.js';
import type { BuildReport } from '../report/types.js';
import { recommendSize, type RightSizing } from './right-size.js';

export function rightSizeReport(report: BuildReport, plan: Plan, prices: RegionPrices, lambdaTiersMB?: readonly number[]): RightSizing[] {
  const planned = new Map(plan.stages.map((s) => [s.name, s]));
  const list: RightSizing[] = [];
  for (const stage of report.stages) {
    const p = planned.get(stage.name);
    if (!p || stage.status !== 'succeeded' || p.autoSized) continue;
    const lambda = stage.runner === 'lambda' ? (stage.lambda ?? p.lambda) : undefined;
    const recommendation = recommendSize(
      { name: stage.name, runner: stage.runner, ...(lambda ? { lambda } : {}), fargate: p.fargate, durationMs: stage.durationMs, peakMemoryMiB: stage.peakMemoryMiB ?? 0, ...(stage.cpuUsage ? { cpu: stage.cpuUsage } : {}) },
      prices,
      lambdaTiersMB,
    );
    if (recommendation) list.push(recommendation);
  }
  return list;
}
