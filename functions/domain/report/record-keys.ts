/**
 * The state machine's own objects, beside the shared layout in `../storage-keys.ts`:
 * `stages/{stage}/run.json` (how a stage ran: path, escalation, Fargate billing timestamps) and
 * `report.txt` (the readable summary next to report.json).
 */
import { buildPrefix, stagePrefix } from '../storage-keys.js';

export const stageRunKey = (buildId: string, stage: string): string => `${stagePrefix(buildId, stage)}run.json`;
export const reportSummaryKey = (buildId: string): string => `${buildPrefix(buildId)}report.txt`;
