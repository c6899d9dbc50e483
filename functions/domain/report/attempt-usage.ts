/**
 * What a Lambda attempt that is escalated to Fargate used, carried in its error. Lambda turns a
 * thrown error into `{"errorType","errorMessage","trace"}` and nothing else
 * (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html), and Step Functions puts
 * that JSON in the Catch's `Cause`; the attempt's result record is overwritten by the Fargate run.
 * So the runner appends a short marker with the figures to the message (well under 300 bytes,
 * against Cause's 32,768-character limit), and the record task reads it back and strips it.
 */
import type { S3RequestCount } from './cost-model.js';

export interface AttemptUsage {
  /** The invocation's duration, ms (handler start to the throw). */
  durationMs: number;
  /** INIT phase of a new execution environment, ms (0 for a warm one). */
  initDurationMs: number;
  s3Requests?: S3RequestCount;
  logBytes?: number;
}

const MARKER = /\s*\[buildfarm-attempt (\{[^\]]*\})\]\s*$/;

export function withAttemptUsage(message: string, usage: AttemptUsage): string {
  return `${message} [buildfarm-attempt ${JSON.stringify(usage)}]`;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : 0;
}

/** The message without the marker, and the usage the marker carried (absent when none, or unreadable). */
export function splitAttemptUsage(message: string): { message: string; usage?: AttemptUsage } {
  const match = MARKER.exec(message);
  if (!match) return { message };
  const stripped = message.slice(0, match.index);
  try {
    const raw = JSON.parse(match[1]!) as Record<string, unknown>;
    const s3 = raw.s3Requests as Record<string, unknown> | undefined;
    return {
      message: stripped,
      usage: {
        durationMs: count(raw.durationMs),
        initDurationMs: count(raw.initDurationMs),
        ...(s3 && typeof s3 === 'object' ? { s3Requests: { put: count(s3.put), get: count(s3.get) } } : {}),
        ...(raw.logBytes !== undefined ? { logBytes: count(raw.logBytes) } : {}),
      },
    };
  } catch {
    return { message: stripped };
  }
}
