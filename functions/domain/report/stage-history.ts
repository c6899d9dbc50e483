/**
 * Reading a stored StageHistory back. The object outlives the code that wrote
 * it (and anyone with bucket access can edit it), so anything that is not a
 * well-formed history is treated as no history: the planner then falls back
 * to the stage's timeout, which is safe.
 */
import type { StageHistory } from '../plan/types.js';
import { HISTORY_WINDOW } from '../plan/predict.js';

const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

export function parseStageHistory(text: string): StageHistory | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { durationsMs, peakMemoryMiB, peakDiskMiB, escalated, peakVcpu, averageVcpu } = value as Record<string, unknown>;
  if (!Array.isArray(durationsMs) || !durationsMs.every(isCount)) return undefined;
  if (!isCount(peakMemoryMiB) || !isCount(peakDiskMiB) || typeof escalated !== 'boolean') return undefined;
  // CPU figures are optional (older histories have none); a malformed one is dropped, not the history.
  const cpu = isCount(peakVcpu) && isCount(averageVcpu) ? { peakVcpu, averageVcpu } : {};
  return { durationsMs: durationsMs.slice(-HISTORY_WINDOW), peakMemoryMiB, peakDiskMiB, ...cpu, escalated };
}
