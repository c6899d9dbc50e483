/**
 * Sizes of what an execution's states passed along, read from GetExecutionHistory: each state's
 * input and output, each task's parameters and result. Step Functions fails an execution with
 * States.DataLimitExceeded, which no Catch handles, when one of them passes 256 KiB.
 * https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';

export const STATE_PAYLOAD_LIMIT_BYTES = 262_144;

const PAYLOAD_FIELDS = ['input', 'output', 'parameters'] as const;

export function largestStatePayload(history: HistoryEvent[]): { bytes: number; where: string } {
  let largest = { bytes: 0, where: 'nowhere' };
  for (const event of history) {
    for (const [detailsName, details] of Object.entries(event)) {
      if (!detailsName.endsWith('EventDetails') || details === null || typeof details !== 'object') continue;
      for (const field of PAYLOAD_FIELDS) {
        const value = (details as Record<string, unknown>)[field];
        if (typeof value !== 'string') continue;
        const bytes = Buffer.byteLength(value, 'utf8');
        const name = (details as { name?: string }).name;
        if (bytes > largest.bytes) largest = { bytes, where: `${event.type}${name ? ` "${name}"` : ''} ${field}` };
      }
    }
  }
  return largest;
}
