/**
 * The spend ledger in the artifact store (S3 on AWS, s3rver locally): one empty object per build
 * whose key carries its cost (domain/budget/spend-ledger.ts), and one per open budget
 * reservation (domain/budget/reservations.ts), summed from listings. Reading a month is one
 * ListObjectsV2 per 1,000 builds; recording or reserving is one PutObject; releasing is one
 * DeleteObject (free: https://aws.amazon.com/s3/pricing/).
 */
import { parseReservationKey, RESERVATIONS_PREFIX, reservationKey, type Reservation } from '../domain/budget/reservations.js';
import { parseSpendKey, spendKey, spendMonthPrefix, type SpendEntry } from '../domain/budget/spend-ledger.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { ObjectRemover } from './aws/s3-object-remover.js';
import type { SpendLedger } from '../ports/spend-ledger.js';

export class S3SpendLedger implements SpendLedger {
  /** `remove` deletes a released reservation; without it (a read-only use, the dashboard) release throws. */
  constructor(
    private readonly store: ArtifactStore,
    private readonly remove?: ObjectRemover,
  ) {}

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

  async reservations(): Promise<Reservation[]> {
    const reservations: Reservation[] = [];
    for await (const object of this.store.list(RESERVATIONS_PREFIX)) {
      const reservation = parseReservationKey(object.key);
      if (reservation) reservations.push(reservation);
    }
    return reservations;
  }

  async reserve(reservation: Reservation): Promise<string> {
    const key = reservationKey(reservation);
    await this.store.put(key, '', 'text/plain');
    return key;
  }

  async release(key: string): Promise<void> {
    // The key comes from a stored plan: never delete anything but a reservation.
    if (parseReservationKey(key) === undefined) throw new Error(`not a budget reservation key: ${key}`);
    if (!this.remove) throw new Error('this spend ledger was made without a way to delete objects, so it cannot release budget reservations');
    await this.remove(key);
  }
}
