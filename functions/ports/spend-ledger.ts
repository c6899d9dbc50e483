import type { Reservation } from '../domain/budget/reservations.js';
import type { SpendEntry } from '../domain/budget/spend-ledger.js';

/**
 * What the farm spent, build by build, and what builds still running hold: the Report task
 * records and releases, the Plan task reserves and reads, the dashboard reads.
 */
export interface SpendLedger {
  /** Every build recorded in the month (`yyyy-mm`, UTC). */
  entriesOf(month: string): Promise<SpendEntry[]>;
  record(entry: SpendEntry): Promise<void>;
  /** Every reservation in the ledger, expired or not (domain/budget/reservations.ts). */
  reservations(): Promise<Reservation[]>;
  /** Records `reservation`; returns its key, which the plan keeps for the Report to release. */
  reserve(reservation: Reservation): Promise<string>;
  /** Deletes the reservation under `key` (a key `reserve` returned); a missing one is not an error. */
  release(key: string): Promise<void>;
}
