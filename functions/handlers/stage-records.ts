/**
 * The stage records the schedule tasks write and read in S3: JSON helpers, the message of a
 * caught error, and the synthetic result of a stage that could not record its own.
 */
import { splitAttemptUsage } from '../domain/report/attempt-usage.js';
import { addRequests, requestsSince, type S3RequestCount } from '../domain/report/cost-model.js';
import type { EscalationRecord } from '../domain/report/run-record.js';
import type { StageResult } from '../domain/report/types.js';
import { manifestKey, stageLogKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { CaughtError } from './build-state-machine.js';

export const BUILD_CONTAINER = 'build';

export async function readJson<T>(store: ArtifactStore, key: string): Promise<T | undefined> {
  const text = await store.getText(key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

export async function writeJson(store: ArtifactStore, key: string, value: unknown): Promise<void> {
  await store.put(key, JSON.stringify(value), 'application/json');
}

/** A Catch's `Cause`: JSON from Lambda (`errorMessage`) and ECS (the task, or RunTask's failures), plain text locally. */
export function causeMessage(error: CaughtError | null | undefined): string {
  if (!error) return '';
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown; StoppedReason?: unknown; Failures?: unknown };
    if (typeof parsed.errorMessage === 'string') return splitAttemptUsage(parsed.errorMessage).message;
    if (typeof parsed.StoppedReason === 'string') return parsed.StoppedReason;
    // AmazonECS.Unknown: the RunTask response's `Failures` (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Failure.html).
    if (Array.isArray(parsed.Failures)) {
      const reasons = parsed.Failures.map((f: { Reason?: unknown; Detail?: unknown }) => [f.Reason, f.Detail].filter((t) => typeof t === 'string').join(': '));
      if (reasons.some((r) => r.length > 0)) return reasons.join('; ');
    }
  } catch {
    // Not JSON: the text is the message.
  }
  return splitAttemptUsage(cause).message;
}

function causeNumber(error: CaughtError, field: string): number {
  try {
    const parsed = JSON.parse(error.Cause ?? '') as Record<string, unknown>;
    const value = parsed[field] ?? (parsed.errorInfo as Record<string, unknown> | undefined)?.[field];
    return typeof value === 'number' && value > 0 ? value : 0;
  } catch {
    return 0;
  }
}

/** The usage a runner's escalating error carried (domain/report/attempt-usage.ts), from Lambda's JSON Cause or a plain one. */
function attemptUsage(error: CaughtError) {
  const cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return splitAttemptUsage(parsed.errorMessage).usage;
  } catch {
    // Not JSON: the marker may be in the text itself.
  }
  return splitAttemptUsage(cause).usage;
}

export function escalationOf(escalation: CaughtError | null): EscalationRecord | undefined {
  if (!escalation) return undefined;
  const usage = attemptUsage(escalation);
  return {
    from: 'lambda',
    errorName: escalation.Error,
    reason: causeMessage(escalation),
    lambdaBilledMs: usage ? Math.ceil(usage.durationMs) : causeNumber(escalation, 'durationMs'),
    ...(usage ? { lambdaInitMs: Math.ceil(usage.initDurationMs) } : {}),
    ...(usage?.s3Requests ? { s3Requests: usage.s3Requests } : {}),
    ...(usage?.logBytes !== undefined ? { logBytes: usage.logBytes } : {}),
  };
}

export function syntheticResult(buildId: string, stage: string, fields: Pick<StageResult, 'status' | 'runner' | 'exitCode' | 'reason' | 'errorName'> & { startedAt?: string; finishedAt: string; durationMs?: number }): StageResult {
  return {
    buildId,
    stage,
    startedAt: fields.startedAt ?? fields.finishedAt,
    durationMs: fields.durationMs ?? 0,
    peakMemoryMiB: 0,
    peakDiskMiB: 0,
    logKey: stageLogKey(buildId, stage),
    manifestKey: manifestKey(buildId, stage),
    artifactCount: 0,
    artifactBytes: 0,
    ...fields,
  };
}


/**
 * The S3 requests a record task made since `before` (a snapshot of its client's count), plus the
 * `puts` it is about to make and what `Prepare Fargate task` reported: the run record carries them.
 * Undefined when the task's client is not counted.
 */
export function recordRequests(deps: { s3Requests?: () => S3RequestCount }, before: S3RequestCount | undefined, prepared: S3RequestCount | null | undefined, puts: number): S3RequestCount | undefined {
  if (!before || !deps.s3Requests) return undefined;
  return addRequests(requestsSince(before, deps.s3Requests(), { put: puts }), prepared ?? undefined);
}
