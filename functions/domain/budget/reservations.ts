/**
 * Budget reservations: a build that the budgets admit holds its predicted cost in the ledger
 * until its Report replaces it by the actual cost, so builds planned at the same time cannot
 * together pass a budget by their predictions. Like the spend entries (spend-ledger.ts), a
 * reservation is one empty object whose key carries everything, read from a listing:
 *
 *   spend/reserved/{owner}/{name}/{micro-dollars}-{reservedAtMs}-{expiresAtMs}-{buildId}
 *
 * (13-digit epoch milliseconds). The fixed `spend/reserved/` prefix lets an S3 lifecycle rule
 * expire what a build never released (template.yaml ExpireBudgetReservations); the spend-entry
 * parser ignores these keys (its month segment is `yyyy-mm`).
 *
 * An open reservation counts in today's and this month's spend whatever day it was taken: its
 * build will be billed when it finishes, which is now or later. It stops counting when:
 * - its build's actual cost is in the ledger (Report writes the actual, then deletes the
 *   reservation; a reader that lists reservations first and entries second never misses both);
 * - it expires: at `expiresAtMs`, the longest the build can run (build-duration-bound.ts), by
 *   when the state machine has ended it and the Report or the execution-end rule has reported it.
 *
 * The admission rule for builds planned at the same time is in admission-order.ts.
 */
export interface Reservation {
  buildId: string;
  /** `owner/name`, lower case. */
  repository: string;
  costUsd: number;
  /** When the Plan task took it (its clock), epoch ms: the reservations' order. */
  reservedAtMs: number;
  /** When it stops counting, epoch ms. */
  expiresAtMs: number;
}

export const RESERVATIONS_PREFIX = 'spend/reserved/';

const MICRO = 1_000_000;
const MS_DIGITS = 13;

function ms(value: number): string {
  return String(Math.max(0, Math.floor(value))).padStart(MS_DIGITS, '0');
}

export function reservationKey(reservation: Reservation): string {
  const micro = Math.max(0, Math.round(reservation.costUsd * MICRO));
  return `${RESERVATIONS_PREFIX}${reservation.repository.toLowerCase()}/${micro}-${ms(reservation.reservedAtMs)}-${ms(reservation.expiresAtMs)}-${reservation.buildId}`;
}

const KEY = /^spend\/reserved\/([^/]+\/[^/]+)\/(\d+)-(\d{13})-(\d{13})-([^/]+)$/;

/** The reservation a key records, or undefined for a key that is not one (ignored, not fatal). */
export function parseReservationKey(key: string): Reservation | undefined {
  const match = KEY.exec(key);
  if (!match) return undefined;
  const [, repository, micro, reservedAt, expiresAt, buildId] = match;
  return { buildId: buildId!, repository: repository!, costUsd: Number(micro) / MICRO, reservedAtMs: Number(reservedAt), expiresAtMs: Number(expiresAt) };
}

/** The order every Plan task agrees on: the time the reservation was taken, then the build id. */
export function compareReservations(a: Reservation, b: Reservation): number {
  if (a.reservedAtMs !== b.reservedAtMs) return a.reservedAtMs - b.reservedAtMs;
  return a.buildId < b.buildId ? -1 : a.buildId > b.buildId ? 1 : 0;
}

/** Reservations still holding money: not expired at `nowMs`, and whose build has no actual cost in `settled`. */
export function openReservations(reservations: Iterable<Reservation>, settled: ReadonlySet<string>, nowMs: number): Reservation[] {
  const byBuild = new Map<string, Reservation>();
  for (const reservation of reservations) {
    if (reservation.expiresAtMs <= nowMs || settled.has(reservation.buildId)) continue;
    // A retried Plan task reserves again: the build holds its latest reservation only.
    const seen = byBuild.get(reservation.buildId);
    if (!seen || compareReservations(seen, reservation) < 0) byBuild.set(reservation.buildId, reservation);
  }
  return [...byBuild.values()];
}
