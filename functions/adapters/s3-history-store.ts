/**
 * Stage history as one small JSON object per stage in the artifact store,
 * `history/{owner}/{repo}/{stage}.json` (S3 on AWS, s3rver locally).
 *
 * An update is read, add, write. Two builds of the same repository finishing
 * the same stage at the same moment can lose one of the two runs; the history
 * is a prediction aid, so that is accepted rather than paying for a lock.
 */
import type { StageHistory } from '../domain/plan/types.js';
import { recordRun } from '../domain/plan/predict.js';
import { historyKey } from '../domain/storage-keys.js';
import { parseStageHistory } from '../domain/report/stage-history.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { HistoryStore, StageRun } from '../ports/history-store.js';

export class S3HistoryStore implements HistoryStore {
  constructor(private readonly store: ArtifactStore) {}

  async loadHistory(repository: string, stageNames: readonly string[]): Promise<Record<string, StageHistory>> {
    const entries = await Promise.all(
      [...new Set(stageNames)].map(async (stage) => [stage, await this.read(repository, stage)] as const),
    );
    const history: Record<string, StageHistory> = {};
    for (const [stage, stageHistory] of entries) if (stageHistory) history[stage] = stageHistory;
    return history;
  }

  async recordRun(repository: string, stage: string, run: StageRun): Promise<StageHistory> {
    const updated = recordRun(await this.read(repository, stage), run);
    await this.store.put(historyKey(repository, stage), JSON.stringify(updated), 'application/json');
    return updated;
  }

  private async read(repository: string, stage: string): Promise<StageHistory | undefined> {
    const text = await this.store.getText(historyKey(repository, stage));
    return text === undefined ? undefined : parseStageHistory(text);
  }
}
