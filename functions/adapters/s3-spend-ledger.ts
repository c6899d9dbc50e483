/**
 * The spend ledger in the artifact store (S3 on AWS, s3rver locally): one empty object per build
 * whose key carries its cost (domain/budget/spend-ledger.ts), summed from a listing. Reading a
 * month is one ListObjectsV2 per 1,000 builds; recording is one PutObject.
 */
import { parseSpendKey, spendKey, spendMonthPrefix, type SpendEntry } from '../domain/budget/spend-ledger.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

export class S3SpendLedger implements SpendLedger {
  constructor(private readonly store: ArtifactStore) {}

  async entriesOf(month: string): Promise<SpendEntry[]> {
    const entries: SpendEntry[] = [];
    for await (const object of this.store.list(spendMonthPrefix(month))) {
      const entry = parseSpendKey(object.key);
      if (entry) entries.push(entry);
    }
    return entries;
  }

  async record(entry: SpendEntry): Promise<void> {
    await this.store.put(spendKey(entry), '', 'text/plain');
  }
}
