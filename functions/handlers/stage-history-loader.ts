/**
 * The history of each stage as it is defined now: read under `{stage}/{definition hash}`
 * (domain/plan/stage-definition.ts) and returned by stage name, as the planner takes it. A stage
 * edited since its last run has no history under its new hash, so it plans from its timeout.
 */
import type { StageSpec } from '../domain/pipeline/types.js';
import { historyIdOf } from '../domain/plan/stage-definition.js';
import type { StageHistory } from '../domain/plan/types.js';
import type { HistoryStore } from '../ports/history-store.js';

export async function loadStageHistory(store: HistoryStore, repository: string, stages: readonly StageSpec[]): Promise<Record<string, StageHistory>> {
  const ids = new Map(stages.map((stage) => [stage.name, historyIdOf(stage)]));
  const byId = await store.loadHistory(repository, [...ids.values()]);
  const byName: Record<string, StageHistory> = {};
  for (const [name, id] of ids) if (byId[id]) byName[name] = byId[id]!;
  return byName;
}
