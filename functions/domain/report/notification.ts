/**
 * The cost report message published to the BuildReports topic: a JSON body
 * with the report's summary, and message attributes subscribers filter on.
 *
 * Attributes are `repository`, `branch`, `status` (String) and `costUsd`
 * (Number), so a subscription filter policy such as
 * `{"costUsd":[{"numeric":[">",1]}]}` or `{"status":["failed"]}` works.
 * https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html
 * https://docs.aws.amazon.com/sns/latest/dg/numeric-value-matching.html
 */
import { describeBuild } from './commit-statuses.js';
import { describeRunner } from './format.js';
import { clipChars } from './text.js';
import type { BuildReport, StageReport } from './types.js';

/** Bumped when a field changes meaning or goes away (subscribers may parse the body). */
export const REPORT_MESSAGE_VERSION = 1;

/**
 * SNS takes 256 KiB (262,144 bytes) for the body and its attributes together
 * (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). The body stays
 * under 200 KiB, which leaves the attributes (a few hundred bytes at most) a wide margin.
 */
export const MAX_REPORT_MESSAGE_BYTES = 200 * 1024;

/** Free text (reasons, error messages) is clipped: the full text is in report.json. */
const MAX_FREE_TEXT = 1000;
/** Names and refs come from GitHub and the pipeline file (short there), clipped here in case. */
const MAX_NAME = 256;

/**
 * SNS compares numbers in filter policies between -1e9 and 1e9 with five
 * decimals, so the attribute is rounded to five decimals (a build under
 * $0.000005 reads 0) and capped at 1e9.
 * https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html
 */
export const ATTRIBUTE_USD_DECIMALS = 5;
export const ATTRIBUTE_USD_MAX = 1e9;

export interface ReportAttributes {
  repository: string;
  branch: string;
  status: string;
  costUsd: number;
}

/** A stage as the message carries it: the report's fields, a readable size, the reason optional (clipped). */
export interface ReportMessageStage
  extends Pick<
    StageReport,
    'name' | 'status' | 'runner' | 'lambda' | 'fargate' | 'durationMs' | 'billedDurationMs' | 'costUsd' | 'predictedCostUsd' | 'escalated' | 'exitCode' | 'errorName'
  > {
  /** e.g. `Lambda 2048 MB`, `Fargate 1 vCPU 2 GB`. */
  size: string;
  reason?: string;
}

/** The report's own summary fields, as the message carries them. */
type ReportSummaryFields = Pick<
  BuildReport,
  'buildId' | 'repository' | 'ref' | 'sha' | 'status' | 'error' | 'reason' | 'startedAt' | 'finishedAt' | 'durationMs' | 'totalCostUsd' | 'predictedCostUsd' | 'allFargateCostUsd' | 'costBreakdown' | 'priceBook'
>;

export interface ReportMessage extends ReportSummaryFields {
  version: typeof REPORT_MESSAGE_VERSION;
  /** One line a person reads first (an email subscription shows the body as is). */
  headline: string;
  branch: string;
  /** What running every stage on Fargate would have cost more (negative: it would have been cheaper). */
  savedVsAllFargateUsd: number;
  /** The same stages as GitHub-hosted jobs, each rounded up to a whole minute (report.json: per job). */
  githubHostedCostUsd: number;
  /** The execution's page (Step Functions console, or the local dashboard). */
  link: string;
  /** Artifact store keys of the full report and the readable summary. */
  reportKey: string;
  summaryKey: string;
  /** Stages in the build; `stages` holds the first `stageCount - stagesOmitted` of them. */
  stageCount: number;
  stagesOmitted: number;
  stages: ReportMessageStage[];
}

export interface ReportMessageContext {
  /** The request's branch; derived from `report.ref` when absent. */
  branch?: string;
  link: string;
  reportKey: string;
  summaryKey: string;
}

export interface ReportNotification {
  /** The JSON body, at most {@link MAX_REPORT_MESSAGE_BYTES} bytes. */
  body: string;
  message: ReportMessage;
  attributes: ReportAttributes;
}

/** `refs/heads/main` is `main`; a tag is its name; `refs/pull/7/head` is `pull/7/head`; anything else as it is. */
export function branchFromRef(ref: string): string {
  for (const prefix of ['refs/heads/', 'refs/tags/', 'refs/']) if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  return ref;
}

/** Cents in a filter's terms: five decimals, within the range SNS compares. */
export function attributeUsd(usd: number): number {
  if (!Number.isFinite(usd) || usd <= 0) return 0;
  const factor = 10 ** ATTRIBUTE_USD_DECIMALS;
  return Math.min(ATTRIBUTE_USD_MAX, Math.round(usd * factor) / factor);
}

/** Six decimals, as the planner and the report round dollars: a difference without float noise. */
const roundUsd = (usd: number): number => Math.round(usd * 1e6) / 1e6;

/** SNS rejects an empty String attribute, so an absent value says so in words. */
function nonEmpty(value: string, fallback: string): string {
  const clipped = clipChars(value, MAX_NAME);
  return clipped.length > 0 ? clipped : fallback;
}

export function reportAttributes(report: BuildReport, branch?: string): ReportAttributes {
  return {
    repository: nonEmpty(report.repository, '(unknown)'),
    branch: nonEmpty(branch ?? branchFromRef(report.ref), '(none)'),
    status: nonEmpty(report.status, 'error'),
    costUsd: attributeUsd(report.totalCostUsd),
  };
}

function messageStage(stage: BuildReport['stages'][number]): ReportMessageStage {
  return {
    name: clipChars(stage.name, MAX_NAME),
    status: stage.status,
    runner: stage.runner,
    size: describeRunner(stage),
    ...(stage.lambda ? { lambda: stage.lambda } : {}),
    ...(stage.fargate ? { fargate: stage.fargate } : {}),
    durationMs: stage.durationMs,
    billedDurationMs: stage.billedDurationMs,
    costUsd: stage.costUsd,
    predictedCostUsd: stage.predictedCostUsd,
    escalated: stage.escalated,
    exitCode: stage.exitCode,
    ...(stage.errorName ? { errorName: clipChars(stage.errorName, MAX_NAME) } : {}),
    ...(stage.reason ? { reason: clipChars(stage.reason, MAX_FREE_TEXT) } : {}),
  };
}

/** Pretty-printed: the same to a parser, readable in an email. */
const serialise = (message: ReportMessage): string => JSON.stringify(message, null, 2);

/**
 * The message for a report. When the stage list would take the body over
 * the limit, it keeps as many stages as fit (in the report's order) and says
 * how many it left out.
 */
export function reportNotification(report: BuildReport, context: ReportMessageContext): ReportNotification {
  const attributes = reportAttributes(report, context.branch);
  const stages = report.stages.map(messageStage);
  const base: Omit<ReportMessage, 'stages' | 'stagesOmitted'> = {
    version: REPORT_MESSAGE_VERSION,
    headline: clipChars(`${attributes.repository} ${attributes.branch}: ${describeBuild(report)}`, MAX_FREE_TEXT),
    buildId: clipChars(report.buildId, MAX_NAME),
    repository: attributes.repository,
    branch: attributes.branch,
    ref: clipChars(report.ref, MAX_NAME),
    sha: clipChars(report.sha, MAX_NAME),
    status: report.status,
    ...(report.error ? { error: { name: clipChars(report.error.name, MAX_NAME), message: clipChars(report.error.message, MAX_FREE_TEXT) } } : {}),
    ...(report.reason ? { reason: clipChars(report.reason, MAX_FREE_TEXT) } : {}),
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    totalCostUsd: report.totalCostUsd,
    predictedCostUsd: report.predictedCostUsd,
    allFargateCostUsd: report.allFargateCostUsd,
    savedVsAllFargateUsd: roundUsd(report.allFargateCostUsd - report.totalCostUsd),
    // The totals only: the lines (several per stage) are in report.json, and would crowd out stages.
    costBreakdown: { ...report.costBreakdown, lines: [] },
    priceBook: report.priceBook,
    githubHostedCostUsd: report.comparison.githubHosted.totalUsd,
    link: context.link,
    reportKey: context.reportKey,
    summaryKey: context.summaryKey,
    stageCount: stages.length,
  };
  const withStages = (count: number): ReportMessage => ({ ...base, stagesOmitted: stages.length - count, stages: stages.slice(0, count) });
  const fits = (count: number): boolean => Buffer.byteLength(serialise(withStages(count))) <= MAX_REPORT_MESSAGE_BYTES;

  let kept = stages.length;
  if (!fits(kept)) {
    // The size grows with the count: find the largest count that fits.
    let low = 0;
    let high = stages.length - 1;
    while (low < high) {
      const middle = Math.ceil((low + high) / 2);
      if (fits(middle)) low = middle;
      else high = middle - 1;
    }
    kept = low;
  }
  const message = withStages(kept);
  return { body: serialise(message), message, attributes };
}
