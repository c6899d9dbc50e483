/**
 * What the local farm keeps about one build while it runs and after: the
 * request that started it, the plan, each stage's live progress, and the
 * final BuildReport. Persisted as JSON under .buildfarm/builds/.
 */
import type { BuildRequest } from '../domain/build-request.js';
import type { FargateSize, LambdaSize, Plan, Runner } from '../domain/plan/types.js';
import type { BuildReport, BuildStatus, StageStatus } from '../domain/report/types.js';

/** A build is queued, then running, then one of the report's final statuses. */
export type BuildState = 'queued' | 'running' | BuildStatus;
export type StageState = 'pending' | 'running' | StageStatus;

export const FINAL_STATES: readonly BuildState[] = ['succeeded', 'failed', 'cancelled', 'error', 'interrupted', 'skipped'];

export function isFinal(state: BuildState): boolean {
  return FINAL_STATES.includes(state);
}

/** One stage as the dashboard follows it: from the plan, then from its run. */
export interface StageProgress {
  name: string;
  wave: number;
  runner: Runner;
  /** Why the planner chose this runner and size. */
  reason: string;
  /** How the run ended, in words (the stage result's reason), once it has. */
  outcome?: string;
  /** The error name of a failure (CommandFailed, StageTimeout, ...). */
  errorName?: string;
  needs: string[];
  lambda?: LambdaSize;
  fargate?: FargateSize;
  status: StageState;
  startedAt?: string;
  finishedAt?: string;
  durationMs?: number;
  predictedCostUsd: number;
  costUsd?: number;
  escalated?: boolean;
}

/** What the input of a build's state machine execution carries (the execution name is the build id). */
export interface BuildExecutionInput {
  buildId: string;
  request: BuildRequest;
}

export interface BuildRecord {
  id: string;
  request: BuildRequest;
  state: BuildState;
  queuedAt: string;
  startedAt?: string;
  finishedAt?: string;
  plan?: Plan;
  stages: StageProgress[];
  report?: BuildReport;
  error?: { name: string; message: string };
  /** Interrupted by a stop of the farm: the build that re-ran it (see recover-accepted-builds.ts). */
  rerunId?: string;
}

/** A row of `GET /api/builds`. */
export interface BuildSummary {
  id: string;
  repository: string;
  ref: string;
  sha: string;
  status: BuildState;
  /** When it started running (when it was queued, until then). */
  startedAt: string;
  /** So far, while it runs; null before it starts. */
  durationMs: number | null;
  /** Null until the report exists. */
  totalCostUsd: number | null;
  event: 'push' | 'pull_request';
  /** The head commit message's first line (a pull request's title). */
  title: string;
}

/** Summary titles stay short whatever the commit message. */
const TITLE_MAX_LENGTH = 200;

export function summarise(record: BuildRecord, now: Date): BuildSummary {
  const startedAt = record.startedAt ?? record.queuedAt;
  let durationMs: number | null = null;
  if (record.report !== undefined) durationMs = record.report.durationMs;
  else if (record.startedAt !== undefined) {
    const end = record.finishedAt !== undefined ? Date.parse(record.finishedAt) : now.getTime();
    durationMs = Math.max(0, end - Date.parse(record.startedAt));
  }
  return {
    id: record.id,
    repository: record.request.repository,
    ref: record.request.ref,
    sha: record.request.sha,
    status: record.state,
    startedAt,
    durationMs,
    totalCostUsd: record.report?.totalCostUsd ?? null,
    event: record.request.event,
    title: (record.request.message.split('\n')[0] ?? '').slice(0, TITLE_MAX_LENGTH),
  };
}
