/**
 * What `buildfarm run` shows while a build runs: the plan, then a line per stage as it
 * starts and ends (runner, size, reason, status, duration), and the report's costs at the
 * end. On a terminal a status line below the log says what is running; piped, plain lines.
 */
import { formatSeconds } from '../domain/pipeline/units.js';
import type { Plan, PlannedStage } from '../domain/plan/types.js';
import type { BuildReport, StageResult } from '../domain/report/types.js';
import type { LocalBuildProgress } from '../local/run-local-build.js';
import { describeFargate, describeLambda, formatUsd } from './format-plan.js';

export interface RunProgressOptions {
  write(text: string): void;
  tty: boolean;
  /** Show stages' own output too (the default on a terminal). */
  logs: boolean;
}

const MARK: Record<string, string> = { succeeded: '✓', failed: '✗', timed_out: '⏱', skipped: '-', cancelled: '⊘' };

function sizeOf(stage: PlannedStage, runner: string): string {
  return runner === 'lambda' && stage.lambda ? `Lambda ${describeLambda(stage.lambda)}` : `Fargate ${describeFargate(stage.fargate)}`;
}

function duration(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : formatSeconds(Math.round(ms / 1000));
}

export class RunProgress implements LocalBuildProgress {
  /** The build's plan, once planned. */
  plan?: Plan;
  private readonly running = new Map<string, number>();
  private readonly started = new Set<string>();
  private statusShown = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly options: RunProgressOptions) {
    if (options.tty) this.timer = setInterval(() => this.redrawStatus(), 1000).unref();
  }

  private line(text: string): void {
    this.clearStatus();
    this.options.write(`${text}\n`);
    this.redrawStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) this.options.write('\r\u001b[2K');
    this.statusShown = false;
  }

  private redrawStatus(): void {
    if (!this.options.tty || this.running.size === 0) return;
    const now = Date.now();
    const parts = [...this.running].map(([name, started]) => `${name} ${formatSeconds(Math.max(0, Math.round((now - started) / 1000))) || '0s'}`);
    this.clearStatus();
    this.options.write(`\u001b[2m… running: ${parts.join(', ')}\u001b[0m`);
    this.statusShown = true;
  }

  planned(plan: Plan): void {
    this.plan = plan;
    this.line(`plan: ${plan.stages.length} stages in ${plan.waves.length} waves, predicted at most ${formatUsd(plan.predictedCostUsd)}`);
    for (const s of plan.skipped) this.line(`  - ${s.name}: skipped (${s.reason})`);
  }

  stageStarted(stage: string, at: Date): void {
    this.running.set(stage, at.getTime());
    const planned = this.plan?.stages.find((s) => s.name === stage);
    // A stage that starts a second time was escalated from Lambda to Fargate.
    const escalated = this.started.has(stage);
    this.started.add(stage);
    if (!planned) this.line(`▸ ${stage}`);
    else if (escalated) this.line(`▸ ${stage}: escalated to Fargate ${describeFargate(planned.fargate)}`);
    else this.line(`▸ ${stage}: ${sizeOf(planned, planned.runner)}; ${planned.reason}`);
  }

  stageLog(stage: string, chunk: string): void {
    if (!this.options.logs) return;
    const text = chunk.endsWith('\n') ? chunk.slice(0, -1) : chunk;
    for (const l of text.split('\n')) this.line(`  ${stage} | ${l}`);
  }

  stageFinished(result: StageResult): void {
    this.running.delete(result.stage);
    const why = result.status === 'succeeded' ? '' : `: ${result.errorName ?? ''}${result.reason ? ` ${result.reason}` : ''}`;
    this.line(`${MARK[result.status] ?? '?'} ${result.stage} ${result.status} on ${result.runner} in ${duration(result.durationMs)}${why}`);
  }

  /** The final table: every stage with its actual cost, then the totals. */
  finish(report: BuildReport): void {
    if (this.timer) clearInterval(this.timer);
    this.running.clear();
    this.clearStatus();
    const w = (s: string, n: number) => s.padEnd(n);
    const rows = report.stages.map((s) => {
      const size = s.lambda ? `Lambda ${s.lambda.memoryMB} MB` : s.fargate ? `Fargate ${s.fargate.cpu / 1024} vCPU / ${s.fargate.memory} MiB${s.fargate.spot ? ' Spot' : ''}` : '';
      return [s.name, s.status, size, s.status === 'skipped' ? '' : duration(s.durationMs), s.status === 'skipped' ? '' : `billed ${duration(s.billedDurationMs)}`, formatUsd(s.costUsd)];
    });
    const widths = [0, 1, 2, 3, 4].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
    this.options.write('\n');
    for (const r of rows) this.options.write(`  ${r.slice(0, 5).map((c, i) => w(c, widths[i])).join('  ')}  ${r[5]}\n`);
    const b = report.costBreakdown;
    this.options.write(
      `\nbuild ${report.buildId} ${report.status} in ${duration(report.durationMs)}: ${formatUsd(report.totalCostUsd)} ` +
        `(compute ${formatUsd(b.computeUsd)}, ${b.stateTransitions} state transitions ${formatUsd(b.stateTransitionsUsd)}, ` +
        `${b.s3Requests} S3 requests ${formatUsd(b.s3RequestsUsd)}); predicted ${formatUsd(report.predictedCostUsd)}, ` +
        `all on Fargate ${formatUsd(report.allFargateCostUsd)}\n`,
    );
    if (report.error) this.options.write(`${report.error.name}: ${report.error.message}\n`);
    if (report.status === 'refused' && report.reason) this.options.write(`refused: ${report.reason}\n`);
  }
}
