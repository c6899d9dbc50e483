/**
 * The rule that keeps builds planned at the same time from passing a budget together.
 *
 * Each Plan task, when a budget applies:
 * 1. takes the time `t` on its clock and writes its reservation (reservations.ts) with `t`;
 * 2. notes whether that write finished within WRITE_WINDOW_MS of `t`; if not, it is *late*;
 * 3. waits until `t + WRITE_WINDOW_MS + CLOCK_SKEW_MS` on its clock;
 * 4. lists the reservations, then the month's spend entries (in that order: Report writes the
 *    actual before deleting the reservation, so a build is never missed by both listings);
 * 5. counts the actual spend, plus every open reservation ordered before its own
 *    (compareReservations) or, when late, every open reservation it sees but its own; and
 *    refuses (deleting its own reservation) when that plus its prediction passes a budget.
 *
 * Why this is safe. S3 lists what was written before the listing began (strong read-after-write
 * consistency: https://docs.aws.amazon.com/AmazonS3/latest/userguide/Welcome.html#ConsistencyModel).
 * Take two builds A before B in the order. If A was not late, A's write finished by
 * `tA + WRITE_WINDOW_MS`, before B listed (B waited past `tB + WRITE_WINDOW_MS + CLOCK_SKEW_MS`
 * with `tB >= tA`, clocks apart by less than CLOCK_SKEW_MS): B saw A and counted it. If A was
 * late and B did not see A, B's write finished before B listed, before A's write finished, before
 * A listed: A saw B and, late, counted it. Across any number of admitted builds: the one ordered
 * last sees every on-time one before it; any it missed is late, and the late one that listed last
 * saw every admitted build and counted them all. Either way one admitted build counted them all,
 * so together they fit.
 *
 * What it costs: builds planned at the same time where only one fits admit the first in the
 * order (the second counts it), unless the first was late (then both may refuse: safe side).
 * Every admission under a budget waits about two seconds. Assumed: clocks within CLOCK_SKEW_MS
 * (Lambda's are kept by the Amazon Time Sync Service; the local farm has one clock).
 */
import { compareReservations, openReservations, type Reservation } from './reservations.js';
import { sumSpend, type Spend, type SpendEntry } from './spend-ledger.js';

/** A reservation written later than this after its time counts every reservation it sees. */
export const WRITE_WINDOW_MS = 1000;
/** How far apart two Plan tasks' clocks may be. */
export const CLOCK_SKEW_MS = 1000;

/** When the Plan task may list, on its own clock. */
export function listNotBeforeMs(own: Reservation): number {
  return own.reservedAtMs + WRITE_WINDOW_MS + CLOCK_SKEW_MS;
}

export function isLate(own: Reservation, writtenAtMs: number): boolean {
  return writtenAtMs - own.reservedAtMs > WRITE_WINDOW_MS;
}

/** The reservations `own` must count (never itself: the build's prediction is added by admitByBudget). */
export function reservationsCounted(own: Reservation, seen: Iterable<Reservation>, settled: ReadonlySet<string>, nowMs: number, late: boolean): Reservation[] {
  return openReservations(seen, settled, nowMs).filter((r) => r.buildId !== own.buildId && (late || compareReservations(r, own) < 0));
}

/**
 * Spend as a budget sees it: the actual costs of `entries` (the month's ledger) plus the
 * reservations counted, each in today's and this month's spend, farm-wide and, for its
 * repository, the repository's.
 */
export function spendWithReservations(entries: readonly SpendEntry[], counted: readonly Reservation[], repository: string, today: string): Spend {
  const spend = sumSpend(entries, repository, today);
  const repo = repository.toLowerCase();
  let farmHeldUsd = 0;
  let repoHeldUsd = 0;
  for (const reservation of counted) {
    farmHeldUsd += reservation.costUsd;
    if (reservation.repository === repo) repoHeldUsd += reservation.costUsd;
  }
  return {
    farmDayUsd: spend.farmDayUsd + farmHeldUsd,
    farmMonthUsd: spend.farmMonthUsd + farmHeldUsd,
    repoDayUsd: spend.repoDayUsd + repoHeldUsd,
    repoMonthUsd: spend.repoMonthUsd + repoHeldUsd,
    farmHeldUsd,
    repoHeldUsd,
  };
}

/** Builds whose actual cost is recorded: their reservations no longer count. */
export function settledBuilds(entries: readonly SpendEntry[]): Set<string> {
  return new Set(entries.map((e) => e.buildId));
}
