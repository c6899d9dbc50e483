/**
 * The GitHub commit statuses a finished build posts: one per stage (context
 * `buildfarm/<stage>`) and one for the build (context `buildfarm`), each with
 * its cost in the description and the execution's console page as target.
 *
 * GitHub's rules: state is pending, success, failure or error; the
 * description is at most 140 characters.
 * https://docs.github.com/en/rest/commits/statuses#create-a-commit-status
 */
import { describeRunner, formatDuration, formatUsd } from './format.js';
import { clipWords, oneLine, textLength } from './text.js';
import { prCostStatus } from './pr-cost.js';
import type { BuildReport, BuildStatus, StageReport, StageStatus } from './types.js';

export type CommitState = 'pending' | 'success' | 'failure' | 'error';

export interface CommitStatus {
  /** `buildfarm` or `buildfarm/<stage>`. */
  context: string;
  state: CommitState;
  /** At most {@link MAX_STATUS_DESCRIPTION} characters. */
  description: string;
  targetUrl: string;
}

export const MAX_STATUS_DESCRIPTION = 140;
export const BUILD_CONTEXT = 'buildfarm';

export function stageContext(stage: string): string {
  return `${BUILD_CONTEXT}/${stage}`;
}

/**
 * A skipped stage reads as success: a stage left out by `if:` must not block a
 * pull request that requires its context, and a stage skipped after an
 * upstream failure leaves that failure (and the build's) red anyway.
 * Cancelled is `error`: the farm stopped it, the code did not fail.
 */
export function stageState(status: StageStatus): CommitState {
  switch (status) {
    case 'succeeded':
    case 'skipped':
      return 'success';
    case 'failed':
    case 'timed_out':
      return 'failure';
    case 'cancelled':
    default:
      return 'error';
  }
}

/**
 * `error` for everything the code under test did not cause (infrastructure, cancellation,
 * interruption), and for a build the farm refused (fork policy, cost limit): nothing ran, so
 * nothing passed, and a branch protection rule that requires `buildfarm` keeps the pull request
 * from merging untested. `failure` would say the code failed, which no one has seen.
 */
export function buildState(status: BuildStatus): CommitState {
  switch (status) {
    case 'succeeded':
    case 'skipped':
      return 'success';
    case 'failed':
      return 'failure';
    case 'cancelled':
    case 'error':
    case 'interrupted':
    case 'refused':
    default:
      return 'error';
  }
}

const STAGE_WORDS: Record<StageStatus, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  timed_out: 'timed out',
  skipped: 'skipped',
  cancelled: 'cancelled',
};

const BUILD_WORDS: Record<BuildStatus, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  cancelled: 'cancelled',
  error: 'errored',
  interrupted: 'interrupted',
  skipped: 'not triggered',
  refused: 'refused',
};

/** A status outside the contract (a newer writer, a corrupt record) still reads as a short word. */
function unknownWord(status: unknown): string {
  return clipWords(oneLine(String(status)), 32) || 'unknown';
}

/** One way to say it: `text`, optionally followed by ` — detail` (free words, shortened first). */
interface Wording {
  text: string;
  detail?: string;
}

const DETAIL_SEPARATOR = ' — ';

/**
 * The first wording, from the most to the least complete, that fits in 140
 * characters. Only the free-text detail is ever cut, and only between words;
 * after that whole parts are dropped (runner, duration), so a number is never
 * cut in half. The last wording is short enough for any input.
 */
export function fitDescription(wordings: Wording[]): string {
  // First the most complete wording that still has room for some of its detail...
  for (const { text, detail } of wordings) {
    if (!detail || textLength(text) > MAX_STATUS_DESCRIPTION) continue;
    const clipped = clipWords(detail, MAX_STATUS_DESCRIPTION - textLength(text) - DETAIL_SEPARATOR.length);
    if (clipped) return `${text}${DETAIL_SEPARATOR}${clipped}`;
  }
  // ...else the most complete wording that fits without it.
  for (const { text } of wordings) if (textLength(text) <= MAX_STATUS_DESCRIPTION) return text;
  // Unreachable with the wordings below (the last is a status word and a cost); kept so the limit is a guarantee.
  return clipWords(wordings.at(-1)?.text ?? '', MAX_STATUS_DESCRIPTION);
}

function stageDetail(stage: StageReport): string | undefined {
  if (stage.status === 'succeeded') return undefined;
  const reason = oneLine(stage.reason ?? '');
  const name = stage.errorName ? oneLine(stage.errorName) : '';
  const detail = name && !reason.startsWith(name) ? `${name}: ${reason}` : reason || name;
  return detail || undefined;
}

/** e.g. `succeeded in 2m 14s · $0.0031 (Lambda 2048 MB)`; a failure adds its reason. */
export function describeStage(stage: StageReport): string {
  const word = STAGE_WORDS[stage.status] ?? unknownWord(stage.status);
  const cost = formatUsd(stage.costUsd);
  const ran = stage.status !== 'skipped' && stage.durationMs > 0;
  const head = ran ? `${word} in ${formatDuration(stage.durationMs)}` : word;
  const runner = `${describeRunner(stage)}${stage.escalated ? ', after Lambda ran out' : ''}`;
  const detail = stageDetail(stage);
  // A stage that never started has no runner or time worth naming.
  if (!ran) return fitDescription([{ text: `${word} · ${cost}`, detail }]);
  return fitDescription([
    { text: `${head} · ${cost} (${runner})`, detail },
    { text: `${head} · ${cost} (${describeRunner(stage)})`, detail },
    { text: `${head} · ${cost}`, detail },
    { text: `${word} · ${cost}` },
  ]);
}

function buildDetail(report: BuildReport): string | undefined {
  if (report.error) return oneLine(`${report.error.name}: ${report.error.message}`);
  // The refusal's reason is the whole point of the status: the setting and the figures.
  if (report.status === 'refused' && report.reason) return oneLine(report.reason);
  const failing = report.stages.filter((s) => s.status === 'failed' || s.status === 'timed_out').map((s) => oneLine(s.name));
  if (failing.length > 0) return `failed: ${failing.join(', ')}`;
  return undefined;
}

/** e.g. `succeeded in 5m 02s · $0.0123 (predicted $0.0150) · 4/4 stages passed`. */
export function describeBuild(report: BuildReport): string {
  const word = BUILD_WORDS[report.status] ?? unknownWord(report.status);
  const cost = formatUsd(report.totalCostUsd);
  const head = report.durationMs > 0 ? `${word} in ${formatDuration(report.durationMs)}` : word;
  const ran = report.stages.filter((s) => s.status !== 'skipped' && s.status !== 'cancelled').length;
  const passed = report.stages.filter((s) => s.status === 'succeeded').length;
  const stages = report.stages.length > 0 ? ` · ${passed}/${report.stages.length} stages passed` : '';
  const detail = buildDetail(report);
  const predicted = ran > 0 ? ` (predicted ${formatUsd(report.predictedCostUsd)})` : '';
  return fitDescription([
    { text: `${head} · ${cost}${predicted}${stages}`, detail },
    { text: `${head} · ${cost}${stages}`, detail },
    { text: `${head} · ${cost}`, detail },
    { text: `${word} · ${cost}` },
  ]);
}

/** The build's status first (the one a branch protection rule most likely requires), then each stage's. */
export function commitStatuses(report: BuildReport, targetUrl: string): CommitStatus[] {
  // A pull request's cost check comes last: the outcome matters more, and GitHub keeps each context's latest.
  const cost = report.prCost ? [prCostStatus(report.prCost, targetUrl)] : [];
  return [
    { context: BUILD_CONTEXT, state: buildState(report.status), description: describeBuild(report), targetUrl },
    ...report.stages.map((stage) => ({
      context: stageContext(stage.name),
      state: stageState(stage.status),
      description: describeStage(stage),
      targetUrl,
    })),
    ...cost,
  ];
}

/** The status a build shows while it runs (posted when it starts, replaced by the report's). */
export function pendingStatus(targetUrl: string, description = 'building'): CommitStatus {
  return { context: BUILD_CONTEXT, state: 'pending', description: clipWords(oneLine(description), MAX_STATUS_DESCRIPTION), targetUrl };
}
