/**
 * An execution that ended without its Report state: stopped (StopExecution, a superseded build),
 * timed out, or failed outside every Catch (States.DataLimitExceeded, States.Runtime, the history
 * limit). No Catch runs then (https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html),
 * so an EventBridge rule on "Step Functions Execution Status Change" sends the end to the report
 * function, which reports the build from what is in S3
 * (https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-integration.html).
 */
import type { BuildStatus } from './types.js';

export const EXECUTION_STATUS_CHANGE = 'Step Functions Execution Status Change';

/** The statuses that can end an execution without its Report state (SUCCEEDED always ran it). */
export const UNREPORTED_END_STATUSES = ['FAILED', 'TIMED_OUT', 'ABORTED'] as const;
export type UnreportedEndStatus = (typeof UNREPORTED_END_STATUSES)[number];

/** The event's `detail`, as Step Functions sends it (epoch-ms dates, input as JSON text, null when absent or too large). */
export interface ExecutionStatusChangeDetail {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  status: string;
  startDate: number;
  stopDate: number | null;
  input: string | null;
  inputDetails?: { included: boolean } | null;
  error: string | null;
  cause: string | null;
}

export interface ExecutionStatusChangeEvent {
  'detail-type': typeof EXECUTION_STATUS_CHANGE;
  source: 'aws.states';
  detail: ExecutionStatusChangeDetail;
}

/** The error a stopped execution is reported with; the report's status is then `cancelled`. */
export const EXECUTION_ABORTED = 'ExecutionAborted';

export function isExecutionStatusChange(value: unknown): value is ExecutionStatusChangeEvent {
  const event = value as Partial<ExecutionStatusChangeEvent> | null;
  return typeof event === 'object' && event !== null && event['detail-type'] === EXECUTION_STATUS_CHANGE && event.source === 'aws.states';
}

/** What ended the execution, in the words the report shows. */
export function executionEndError(detail: ExecutionStatusChangeDetail): { Error: string; Cause: string } {
  switch (detail.status as UnreportedEndStatus) {
    case 'ABORTED':
      return { Error: EXECUTION_ABORTED, Cause: detail.cause || 'the execution was stopped (StopExecution)' };
    case 'TIMED_OUT':
      return { Error: detail.error || 'States.Timeout', Cause: detail.cause || 'the execution timed out' };
    default:
      return { Error: detail.error || 'ExecutionFailed', Cause: detail.cause || `the execution ended ${detail.status}` };
  }
}

/** A stopped build was cancelled (by the farm or a person), not broken. */
export function statusForError(name: string): BuildStatus {
  return name === EXECUTION_ABORTED ? 'cancelled' : 'error';
}
