/**
 * The Plan task's budget check step by step (handlers/budget-admission.ts), on an in-memory
 * ledger with a clock the test moves: the wait before listing, the late rule, and a ledger that
 * fails. The same steps run against moto_server's S3 in plan-budget.moto.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { CLOCK_SKEW_MS, WRITE_WINDOW_MS } from '../../functions/domain/budget/admission-order.js';
import { parseReservationKey, reservationKey, type Reservation } from '../../functions/domain/budget/reservations.js';
import type { SpendEntry } from '../../functions/domain/budget/spend-ledger.js';
import type { FarmPolicy } from '../../functions/domain/plan/farm-policy.js';
import { admitWithinBudgets } from '../../functions/handlers/budget-admission.js';
import type { SpendLedger } from '../../functions/ports/spend-ledger.js';

const T = Date.parse('2026-11-30T12:00:00Z');
const POLICY = { forks: 'no-secrets', budgets: { dailyUsd: 1 } } as FarmPolicy;
const REQUEST = { buildId: 'b-me', repository: 'acme/api', predictedCostUsd: 0.6, durationBoundSeconds: 3600 };

class MemoryLedger implements SpendLedger {
  readonly keys = new Set<string>();
  readonly entries: SpendEntry[] = [];
  failReserve = false;
  failList = false;
  /** Runs while the reservation is being written (the write's latency, others' writes). */
  duringReserve?: () => void;

  async entriesOf(): Promise<SpendEntry[]> {
    return this.entries;
  }
  async record(entry: SpendEntry): Promise<void> {
    this.entries.push(entry);
  }
  async reservations(): Promise<Reservation[]> {
    if (this.failList) throw new Error('ListObjectsV2 failed');
    return [...this.keys].map((k) => parseReservationKey(k)!);
  }
  async reserve(reservation: Reservation): Promise<string> {
    this.duringReserve?.();
    if (this.failReserve) throw new Error('PutObject failed');
    const key = reservationKey(reservation);
    this.keys.add(key);
    return key;
  }
  async release(key: string): Promise<void> {
    this.keys.delete(key);
  }
}

function clock(start = T) {
  let now = start;
  const slept: number[] = [];
  return { advance: (ms: number) => void (now += ms), slept, deps: { now: () => new Date(now), sleep: async (ms: number) => void (slept.push(ms), (now += ms)) } };
}

const other = (buildId: string, reservedAtMs: number, costUsd = 0.6): Reservation => ({ buildId, repository: 'acme/api', costUsd, reservedAtMs, expiresAtMs: reservedAtMs + 3_600_000 });

describe('Function: admitWithinBudgets', () => {
  it('reserves, waits out the write window and the clock allowance, then admits and keeps the reservation', async () => {
    const ledger = new MemoryLedger();
    const c = clock();
    const admission = await admitWithinBudgets(REQUEST, POLICY, ledger, c.deps);
    expect(admission).toEqual({ run: true, reservationKey: reservationKey({ ...other('b-me', T), costUsd: 0.6 }) });
    expect(c.slept).toEqual([WRITE_WINDOW_MS + CLOCK_SKEW_MS]);
    expect(ledger.keys.size).toBe(1);
  });

  it('counts an earlier reservation, refuses, and deletes its own', async () => {
    const ledger = new MemoryLedger();
    ledger.keys.add(reservationKey(other('b-earlier', T - 1)));
    const admission = await admitWithinBudgets(REQUEST, POLICY, ledger, clock().deps);
    expect(admission.run).toBe(false);
    expect(!admission.run && admission.reason).toContain('$0.6000 of it held by builds still running');
    expect([...ledger.keys].map((k) => parseReservationKey(k)!.buildId)).toEqual(['b-earlier']);
  });

  it('does not count a later reservation when its own write was on time', async () => {
    const ledger = new MemoryLedger();
    ledger.duringReserve = () => ledger.keys.add(reservationKey(other('b-later', T + 5)));
    expect((await admitWithinBudgets(REQUEST, POLICY, ledger, clock().deps)).run).toBe(true);
  });

  it('counts every reservation it sees when its own write was late', async () => {
    const ledger = new MemoryLedger();
    const c = clock();
    ledger.duringReserve = () => {
      ledger.keys.add(reservationKey(other('b-later', T + 5)));
      c.advance(WRITE_WINDOW_MS + 1);
    };
    const admission = await admitWithinBudgets(REQUEST, POLICY, ledger, c.deps);
    expect(admission.run).toBe(false);
    expect([...ledger.keys].map((k) => parseReservationKey(k)!.buildId)).toEqual(['b-later']);
  });

  it('refuses when the reservation cannot be written, or the ledger cannot be read, and holds nothing', async () => {
    const unwritable = new MemoryLedger();
    unwritable.failReserve = true;
    expect(await admitWithinBudgets(REQUEST, POLICY, unwritable, clock().deps)).toEqual({
      run: false,
      reason: "the build's cost could not be reserved in the spend ledger to check the budgets (Error: PutObject failed)",
    });
    const unreadable = new MemoryLedger();
    unreadable.failList = true;
    expect(await admitWithinBudgets(REQUEST, POLICY, unreadable, clock().deps)).toEqual({
      run: false,
      reason: 'the spend ledger could not be read to check the budgets (Error: ListObjectsV2 failed)',
    });
    expect(unreadable.keys.size).toBe(0);
  });

  it('makes no request at all without a budget', async () => {
    const ledger = new MemoryLedger();
    ledger.failReserve = true;
    expect(await admitWithinBudgets(REQUEST, { forks: 'no-secrets' } as FarmPolicy, ledger, clock().deps)).toEqual({ run: true });
  });
});
