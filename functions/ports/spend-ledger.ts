import type { SpendEntry } from '../domain/budget/spend-ledger.js';

/** What the farm spent, build by build: the Report task records, the Plan task and the dashboard read. */
export interface SpendLedger {
  /** Every build recorded in the month (`yyyy-mm`, UTC). */
  entriesOf(month: string): Promise<SpendEntry[]>;
  record(entry: SpendEntry): Promise<void>;
}
