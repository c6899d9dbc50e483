/**
 * The S3 requests publishing a report makes after the report is built (so the report cannot
 * count them as they happen, but can know them): report.json and report.txt (one PUT each: both
 * are far below the uploader's 8 MiB multipart threshold), and for each stage that ran, when history
 * is recorded, a GET and a PUT of its history object (adapters/s3-history-store.ts). Kept beside
 * publish-report.ts, whose steps it mirrors; test/adapters/aws/s3-request-counter.test.ts holds
 * the two together against s3rver.
 */
import type { S3RequestCount } from './cost-model.js';
import type { StageStatus } from './types.js';

/** The statuses of stages that ran (publish-report.ts ranStages): their history is recorded. */
const RAN: ReadonlySet<StageStatus> = new Set(['succeeded', 'failed', 'timed_out']);

export function publishRequests(stageStatuses: readonly StageStatus[], recordHistory: boolean): S3RequestCount {
  const history = recordHistory ? stageStatuses.filter((s) => RAN.has(s)).length : 0;
  return { put: 2 + history, get: history };
}
