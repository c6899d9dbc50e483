/**
 * The terminal side of the local farm: one line per step of every build, so
 * `npm start` shows the demo build stage by stage, and a served farm shows
 * webhook builds as they come.
 */
import type { StageProgress } from './build-record.js';
import type { FarmEvent } from './farm.js';

export interface ProgressPrinterOptions {
  write: (text: string) => void;
  /** The dashboard's address, for a link to each finished build. */
  dashboardUrl?: string;
  color?: boolean;
}

const STAGE_MARK: Record<string, string> = {
  succeeded: '✓', failed: '✗', timed_out: '✗', skipped: '-', cancelled: '⊘', running: '▸', pending: '·',
};

export function createProgressPrinter(options: ProgressPrinterOptions): (event: FarmEvent) => void {
  const paint = (code: number, text: string) => (options.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const green = (t: string) => paint(32, t);
  const red = (t: string) => paint(31, t);
  const dim = (t: string) => paint(2, t);
  const bold = (t: string) => paint(1, t);
  const line = (text: string) => options.write(`${text}\n`);
  const mark = (status: string) =>
    status === 'succeeded' ? green(STAGE_MARK.succeeded) : status === 'failed' || status === 'timed_out' ? red(STAGE_MARK[status]) : (STAGE_MARK[status] ?? '?');

  return function printProgress(event) {
    const build = event.build;
    const tag = dim(`[${build.request.repository} ${build.request.branch} ${build.request.sha.slice(0, 7)}]`);
    switch (event.type) {
      case 'queued':
        line(`${tag} build ${build.id} queued (${build.request.event}${build.request.pullRequest ? ` #${build.request.pullRequest}` : ''} by ${build.request.sender || 'unknown'})`);
        return;
      case 'started':
        line(`${tag} started`);
        return;
      case 'planned': {
        const plan = build.plan!;
        line(`${tag} plan: ${plan.stages.length} stages in ${plan.waves.length} waves, predicted ${usd(plan.predictedCostUsd)}`);
        plan.waves.forEach((wave, index) => {
          const stages = wave.map((name) => build.stages.find((s) => s.name === name)).filter((s): s is StageProgress => s !== undefined);
          line(`${tag}   wave ${index + 1}: ${stages.map((s) => `${s.name} (${runnerAndSize(s)})`).join(', ')}`);
        });
        return;
      }
      case 'stage-started':
        line(`${tag} ${STAGE_MARK.running} ${pad(event.stage.name)} ${runnerAndSize(event.stage)}`);
        return;
      case 'stage-finished': {
        const stage = event.stage;
        line(`${tag} ${mark(stage.status)} ${pad(stage.name)} ${stage.status.padEnd(9)} ${seconds(stage.durationMs)} on ${stage.runner}`);
        return;
      }
      case 'finished': {
        const report = build.report;
        const ok = build.state === 'succeeded';
        const status = ok ? green(bold(build.state)) : build.state === 'failed' || build.state === 'error' || build.state === 'refused' ? red(bold(build.state)) : bold(build.state);
        const parts = [`${tag} ${status}`];
        if (report) {
          parts.push(`in ${seconds(report.durationMs)}`);
          parts.push(`cost ${bold(usd(report.totalCostUsd))} (all on Fargate: ${usd(report.allFargateCostUsd)})`);
          for (const stage of report.stages) {
            const artifacts = `${stage.artifacts.length} artifact${stage.artifacts.length === 1 ? '' : 's'}`;
            const cache = stage.cache ? `  cache ${stage.cache.result}${stage.cache.saved ? ', saved' : ''}` : '';
            line(`${tag}   ${mark(stage.status)} ${pad(stage.name)} ${stage.status.padEnd(9)} ${stage.runner.padEnd(8)} ${seconds(stage.durationMs).padStart(7)}  ${usd(stage.costUsd).padStart(10)}  ${artifacts}${cache}`);
          }
        }
        if (build.error && !ok) parts.push(`${build.error.name}: ${build.error.message}`);
        if (report?.status === 'refused' && report.reason) parts.push(red(report.reason));
        line(parts.join(' · '));
        if (options.dashboardUrl) line(`${tag} ${dim(`${options.dashboardUrl}/#/builds/${encodeURIComponent(build.id)}`)}`);
        return;
      }
    }
  };
}

function runnerAndSize(stage: StageProgress): string {
  if (stage.runner === 'lambda' && stage.lambda) return `Lambda ${stage.lambda.memoryMB} MB`;
  if (stage.fargate) return `Fargate ${stage.fargate.cpu / 1024} vCPU ${stage.fargate.memory / 1024} GB`;
  return stage.runner;
}

function pad(name: string): string {
  return name.padEnd(12);
}

function seconds(ms: number | undefined): string {
  return ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`;
}

function usd(value: number): string {
  return `$${value.toFixed(value < 0.01 ? 6 : 4)}`;
}
