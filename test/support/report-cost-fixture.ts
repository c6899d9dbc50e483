/**
 * The cost fields of a hand-made BuildReport fixture (tests of formatting, notifications and
 * statuses that do not compute costs): a breakdown whose lines sum to the total, the price book
 * and a comparison, from a few round figures.
 */
import { costBreakdown, costLine } from '../../functions/domain/report/cost-breakdown.js';
import type { BuildReport } from '../../functions/domain/report/types.js';

export function reportCostFields(figures: { computeUsd: number; stateTransitions: number; stateTransitionsUsd: number; s3Requests: number; s3RequestsUsd: number; predictedUsd: number; allFargateUsd: number }): Pick<BuildReport, 'totalCostUsd' | 'costBreakdown' | 'predictedCostUsd' | 'allFargateCostUsd' | 'priceBook' | 'comparison'> {
  const breakdown = costBreakdown([
    costLine({ item: 'lambda', quantity: 1, unit: 'ms', usd: figures.computeUsd }),
    costLine({ item: 'stateTransitions', quantity: figures.stateTransitions, unit: 'transitions', usd: figures.stateTransitionsUsd }),
    costLine({ item: 's3Tier1Requests', quantity: figures.s3Requests, unit: 'requests', usd: figures.s3RequestsUsd }),
  ]);
  const predicted = { computeUsd: figures.predictedUsd, publicIpv4Usd: 0, stateTransitions: 0, stateTransitionsUsd: 0, s3RequestsUsd: 0, totalUsd: figures.predictedUsd };
  return {
    totalCostUsd: breakdown.totalUsd,
    costBreakdown: breakdown,
    predictedCostUsd: figures.predictedUsd,
    allFargateCostUsd: figures.allFargateUsd,
    priceBook: { region: 'us-east-1', fallback: false, asOf: '2026-08-01', source: 'test', overrides: [] },
    comparison: {
      predicted,
      differenceUsd: breakdown.totalUsd - figures.predictedUsd,
      allFargate: { computeUsd: figures.allFargateUsd, publicIpv4Usd: 0, stateTransitionsUsd: 0, s3RequestsUsd: 0, cloudWatchLogsUsd: 0, totalUsd: figures.allFargateUsd, savedUsd: figures.allFargateUsd - breakdown.totalUsd },
      githubHosted: { source: 'test', asOf: '2026-01-01', jobs: [], totalUsd: 0, savedUsd: -breakdown.totalUsd },
    },
  };
}
