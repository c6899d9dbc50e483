/**
 * The report as a person reads it: stored beside report.json as report.txt,
 * shown by the local dashboard and fit for an email.
 *
 *   acme/api main: succeeded in 5m 02s · $0.0123 (predicted $0.0150) · 3/3 stages passed
 *
 *   build       2026-11-22T10:00:00.000Z  delivery-1234
 *   commit      0123abcd… (refs/heads/main)
 *   cost        $0.0123 = compute $0.0110 + 41 transitions $0.0010 + 120 S3 requests $0.0003
 *   all Fargate $0.0400 (this build saved $0.0277)
 *   execution   https://us-east-1.console.aws.amazon.com/states/...
 *
 *   stage   status     runner               duration  cost     predicted
 *   build   succeeded  Lambda 2048 MB       2m 14s    $0.0031  $0.0040
 *
 *   build: cache npm-1a2b3c4d5e6f: fallback from npm-9f8e7d6c5b4a (main), 41.2 MiB down; saved 41.9 MiB to main
 */
import { describeCache } from '../cache/cache-report.js';
import { describeBuild } from './commit-statuses.js';
import { describeRunner, formatDuration, formatUsd } from './format.js';
import { branchFromRef } from './notification.js';
import { oneLine } from './text.js';
import type { BuildReport, StageReport } from './types.js';
import { prCostLines } from './pr-cost.js';
import { rightSizingLines } from '../sizing/right-size.js';
import { describeCpuUsage } from '../sizing/cpu-usage.js';

export interface SummaryContext {
  branch?: string;
  link: string;
}

const STATUS_WORDS: Record<string, string> = { timed_out: 'timed out' };

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ').trimEnd());
}

function stageRow(stage: StageReport): string[] {
  const runner = `${describeRunner(stage)}${stage.escalated ? ' (escalated from Lambda)' : ''}`;
  return [
    oneLine(stage.name),
    STATUS_WORDS[stage.status] ?? stage.status,
    runner,
    stage.status === 'skipped' ? '-' : formatDuration(stage.durationMs),
    formatUsd(stage.costUsd),
    formatUsd(stage.predictedCostUsd),
  ];
}

/** Logs and public IPv4, when the build paid for them. */
function extras(report: BuildReport): string {
  const b = report.costBreakdown;
  const parts = [b.cloudWatchLogsUsd > 0 ? ` + logs ${formatUsd(b.cloudWatchLogsUsd)}` : '', b.publicIpv4Usd > 0 ? ` + public IPv4 ${formatUsd(b.publicIpv4Usd)}` : ''];
  return parts.join('');
}

function savings(report: BuildReport): string {
  const saved = report.allFargateCostUsd - report.totalCostUsd;
  return saved >= 0 ? `this build saved ${formatUsd(saved)}` : `that would have been ${formatUsd(-saved)} cheaper`;
}

export function reportSummary(report: BuildReport, context: SummaryContext): string {
  const branch = context.branch ?? branchFromRef(report.ref);
  const b = report.costBreakdown;
  const lines = [
    `${oneLine(report.repository)} ${oneLine(branch)}: ${describeBuild(report)}`,
    '',
    `build       ${report.startedAt}  ${oneLine(report.buildId)}`,
    `commit      ${oneLine(report.sha)} (${oneLine(report.ref)})`,
    `cost        ${formatUsd(report.totalCostUsd)} = compute ${formatUsd(b.computeUsd)} + ${b.stateTransitions} transitions ${formatUsd(b.stateTransitionsUsd)} + ${b.s3Requests} S3 requests ${formatUsd(b.s3RequestsUsd)}${extras(report)}`,
    `predicted   ${formatUsd(report.predictedCostUsd)} (same basis: compute, orchestration, S3)`,
    `all Fargate ${formatUsd(report.allFargateCostUsd)} (${savings(report)})`,
    ...(report.comparison ? [`GitHub      ${formatUsd(report.comparison.githubHosted.totalUsd)} on GitHub-hosted runners (per started minute, prices of ${oneLine(report.comparison.githubHosted.asOf)})`] : []),
    ...(report.priceBook ? [`prices      ${oneLine(report.priceBook.region)}${report.priceBook.fallback ? ' (fallback)' : ''} as of ${oneLine(report.priceBook.asOf)}: ${oneLine(report.priceBook.source)}${report.priceBook.overrides.length > 0 ? ` (${report.priceBook.overrides.length} overridden)` : ''}`] : []),
    `execution   ${context.link}`,
  ];
  if (report.error) lines.push(`error       ${oneLine(report.error.name)}: ${oneLine(report.error.message)}`);
  if (report.reason) lines.push(`${report.status === 'refused' ? 'refused    ' : 'not run    '} ${oneLine(report.reason)}`);
  if (report.prCost) lines.push(...prCostLines(report.prCost));
  if (report.rightSizing && report.rightSizing.length > 0) lines.push(...rightSizingLines(report.rightSizing));
  if (report.stages.length > 0) {
    lines.push('', ...table([['stage', 'status', 'runner', 'duration', 'cost', 'predicted'], ...report.stages.map(stageRow)]));
    // Dependency caches: hit, fallback or miss, what was restored from where, the bytes moved.
    const cached = report.stages.filter((s) => s.cache);
    if (cached.length > 0) lines.push('', ...cached.map((stage) => `${oneLine(stage.name)}: ${oneLine(describeCache(stage.cache!))}`));
    // What each stage measured: right-sizing rests on these (domain/sizing/right-size.ts).
    const measured = report.stages.filter((s) => s.cpuUsage && s.status !== 'skipped');
    if (measured.length > 0) lines.push('', ...measured.map((stage) => `${oneLine(stage.name)}: peak ${stage.peakMemoryMiB ?? 0} MiB, ${describeCpuUsage(stage.cpuUsage!)}`));
    const notes = report.stages.filter((s) => s.status !== 'succeeded' && s.reason);
    if (notes.length > 0) {
      lines.push('');
      for (const stage of notes) {
        const name = stage.errorName ? `${oneLine(stage.errorName)}: ` : '';
        lines.push(`${oneLine(stage.name)}: ${name}${oneLine(stage.reason)}`);
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
