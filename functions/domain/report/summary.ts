/**
 * The report as a person reads it (stored beside report.json as report.txt): one line per
 * stage with its runner, size, status, duration and cost, then the totals.
 */
import type { BuildReport, StageReport } from './types.js';

export function formatUsd(value: number): string {
  return value >= 0.01 ? `$${value.toFixed(2)}` : `$${value.toFixed(6)}`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function size(stage: StageReport): string {
  if (stage.runner === 'lambda' && stage.lambda) return `${stage.lambda.memoryMB} MB`;
  if (stage.runner === 'fargate' && stage.fargate) {
    const spot = stage.fargate.spot ? ' spot' : '';
    return `${stage.fargate.cpu / 1024} vCPU ${stage.fargate.memory / 1024} GB${spot}`;
  }
  return '';
}

export function formatReportSummary(report: BuildReport): string {
  const lines = [`${report.repository} ${report.ref} ${report.sha.slice(0, 12)}: ${report.status}`];
  if (report.error) lines.push(`${report.error.name}: ${report.error.message}`);
  const rows = report.stages.map((s) => [
    s.name,
    s.status === 'skipped' ? '' : s.runner + (s.escalated ? ' (escalated)' : ''),
    s.status === 'skipped' ? '' : size(s),
    s.status,
    s.status === 'skipped' ? '' : seconds(s.durationMs),
    s.status === 'skipped' ? '' : formatUsd(s.costUsd),
    s.reason,
  ]);
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(0, ...rows.map((r) => r[i]!.length)));
  for (const row of rows) lines.push(row.map((cell, i) => (i < 6 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  const b = report.costBreakdown;
  lines.push(
    `total ${formatUsd(report.totalCostUsd)} (compute ${formatUsd(b.computeUsd)}, ${b.stateTransitions} state transitions ${formatUsd(b.stateTransitionsUsd)}, ${b.s3Requests} S3 requests ${formatUsd(b.s3RequestsUsd)})`,
    `predicted ${formatUsd(report.predictedCostUsd)}; all on Fargate ${formatUsd(report.allFargateCostUsd)}; took ${seconds(report.durationMs)}`,
  );
  return lines.join('\n') + '\n';
}
