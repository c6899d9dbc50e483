/**
 * What happens with a finished BuildReport, in the order that keeps the
 * build's outcome safe:
 *
 * 1. report.json and report.txt go to the artifact store;
 * 2. the cost report is published to the BuildReports topic;
 * 3. commit statuses are posted (when a GitHub token is configured);
 * 4. each stage that ran is added to its history for the planner;
 *    beside 3 and 4, whatever else the caller has to do once the report is out
 *    (`alsoOncePublished`).
 *
 * Steps 1 and 2 throw on failure: nothing after them has happened yet and
 * both are safe to repeat, so the Report task's retry redoes them. Steps 3 and
 * 4 only log a failure: GitHub being down or a history write failing must not
 * turn a finished build into a failed Report task (and a retry would record
 * the runs twice).
 */
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { CommitStatusPort } from '../../ports/commit-status.js';
import type { HistoryStore, StageRun } from '../../ports/history-store.js';
import type { Notifier } from '../../ports/notifier.js';
import { commitStatuses, type CommitStatus } from './commit-statuses.js';
import { executionConsoleUrl } from './console-url.js';
import { reportNotification, type ReportNotification } from './notification.js';
import { reportKey } from '../storage-keys.js';
import { reportSummaryKey } from './record-keys.js';
import { reportSummary } from './report-summary.js';
import { runBounded } from '../run-bounded.js';
import type { BuildReport, StageReport } from './types.js';

/** The part of a logger this needs; Powertools' Logger fits. */
export interface ReportLogger {
  info(message: string, ...extra: unknown[]): void;
  warn(message: string, ...extra: unknown[]): void;
}

export interface PublishReportDeps {
  store: ArtifactStore;
  notifier: Notifier;
  /** Absent when no GitHub token is configured: no statuses are posted. */
  statuses?: CommitStatusPort;
  history: HistoryStore;
  /**
   * False for a pull request from a fork: its author chose what its stages did, and the history
   * sets the predictions (and so the cost limits' verdicts) of the repository's own builds.
   */
  recordHistory?: boolean;
  executionArn: string;
  region: string;
  /** The request's branch (`BuildRequest.branch`); derived from the report's ref when absent. */
  branch?: string;
  /** Where statuses and the message link to; the execution's Step Functions console page when absent (the local farm passes its dashboard). */
  link?: string;
  logger?: ReportLogger;
  /**
   * More of the report step's work that needs only the report published (the Report task's spend
   * and branch cost): run beside steps 3 and 4, not after them. It must catch its own failures,
   * as they do.
   */
  alsoOncePublished?: () => Promise<unknown>;
}

export interface PostedStatus {
  status: CommitStatus;
  /** Why GitHub did not take it, when it did not. */
  error?: string;
}

export interface PublishedReport {
  reportKey: string;
  summaryKey: string;
  summary: string;
  link: string;
  notification: ReportNotification;
  messageId: string;
  /** Empty when no statuses port is configured. */
  statuses: PostedStatus[];
  /** Stages whose history was updated. */
  historyRecorded: string[];
  /** Stages whose history could not be updated, with why. */
  historyFailed: { stage: string; error: string }[];
}

/**
 * A stage "ran" when it finished on a runner: it succeeded, failed or timed
 * out. Skipped and cancelled stages measured nothing the planner can use (a
 * cancelled stage stopped early, so its duration would under-predict).
 */
export function ranStages(report: BuildReport): StageReport[] {
  return report.stages.filter((s) => s.status === 'succeeded' || s.status === 'failed' || s.status === 'timed_out');
}

export function stageRun(stage: StageReport): StageRun {
  return {
    durationMs: stage.durationMs,
    peakMemoryMiB: stage.peakMemoryMiB ?? 0,
    peakDiskMiB: stage.peakDiskMiB ?? 0,
    ...(stage.cpuUsage ? { cpu: { peakVcpu: stage.cpuUsage.peakVcpu, averageVcpu: stage.cpuUsage.averageVcpu } } : {}),
    escalated: stage.escalated,
  };
}

const messageOf = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** Stage histories written at once: well under the SDK's 50 sockets, and S3's per-prefix request rates. */
const HISTORY_CONCURRENCY = 8;

export async function publishReport(report: BuildReport, deps: PublishReportDeps): Promise<PublishedReport> {
  const link = deps.link ?? executionConsoleUrl(deps.region, deps.executionArn);
  const keys = { reportKey: reportKey(report.buildId), summaryKey: reportSummaryKey(report.buildId) };
  const summary = reportSummary(report, { branch: deps.branch, link });

  // The two objects the notification names, written side by side: both exist before it goes out.
  await Promise.all([
    deps.store.put(keys.reportKey, JSON.stringify(report, null, 2), 'application/json'),
    deps.store.put(keys.summaryKey, summary, 'text/plain; charset=utf-8'),
  ]);

  const notification = reportNotification(report, { branch: deps.branch, link, ...keys });
  const { messageId } = await deps.notifier.publish(notification.body, { ...notification.attributes });
  deps.logger?.info('build report published', { buildId: report.buildId, messageId, costUsd: report.totalCostUsd });

  // Commit statuses (to GitHub) and stage history (to S3) need nothing of each other: side by side,
  // so the report step, and with it every build, does not wait for one after the other.
  const statuses: PostedStatus[] = [];
  const postStatuses = async () => {
    if (!deps.statuses) return;
    // One at a time: GitHub asks for mutating requests in series to stay clear of its secondary rate limits.
    for (const status of commitStatuses(report, link)) {
      try {
        await deps.statuses.post(report.repository, report.sha, status);
        statuses.push({ status });
      } catch (error) {
        deps.logger?.warn('commit status not posted', { buildId: report.buildId, context: status.context, error: messageOf(error) });
        statuses.push({ status, error: messageOf(error) });
      }
    }
  };

  // Each stage's history is an object of its own (`{stage}/{definition hash}`), so stages are
  // recorded side by side, a few at a time (a pipeline may have hundreds). Each outcome is kept at
  // its stage's place, so the lists below are in the report's order whichever write ended first.
  const ran = deps.recordHistory === false ? [] : ranStages(report);
  const outcomes: Array<{ stage: string; error?: string }> = [];
  const recordHistory = ran.map((stage, index) => async () => {
    try {
      // Under the stage's definition hash, so an edited stage starts a new history (stage-definition.ts).
      await deps.history.recordRun(report.repository, stage.historyId ?? stage.name, stageRun(stage));
      outcomes[index] = { stage: stage.name };
    } catch (error) {
      deps.logger?.warn('stage history not recorded', { buildId: report.buildId, stage: stage.name, error: messageOf(error) });
      outcomes[index] = { stage: stage.name, error: messageOf(error) };
    }
  });
  await Promise.all([postStatuses(), runBounded(recordHistory, HISTORY_CONCURRENCY), deps.alsoOncePublished?.()]);
  const historyRecorded = outcomes.filter((outcome) => outcome.error === undefined).map((outcome) => outcome.stage);
  const historyFailed = outcomes.flatMap(({ stage, error }) => (error === undefined ? [] : [{ stage, error }]));

  return { ...keys, summary, link, notification, messageId, statuses, historyRecorded, historyFailed };
}
