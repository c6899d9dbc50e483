import { describe, expect, it } from 'vitest';
import { admitByBudget } from '../../../functions/domain/budget/admit-by-budget.js';
import { CLOCK_SKEW_MS, isLate, listNotBeforeMs, reservationsCounted, settledBuilds, spendWithReservations, WRITE_WINDOW_MS } from '../../../functions/domain/budget/admission-order.js';
import { buildDurationBoundSeconds, MAX_RESERVATION_SECONDS } from '../../../functions/domain/budget/build-duration-bound.js';
import { openReservations, parseReservationKey, reservationKey, type Reservation } from '../../../functions/domain/budget/reservations.js';
import { parseSpendKey, type SpendEntry } from '../../../functions/domain/budget/spend-ledger.js';
import type { PlannedStage } from '../../../functions/domain/plan/types.js';

const T = Date.parse('2026-11-30T12:00:00Z');
const reservation = (buildId: string, costUsd: number, reservedAtMs = T, repository = 'acme/api', expiresAtMs = T + 3_600_000): Reservation => ({ buildId, repository, costUsd, reservedAtMs, expiresAtMs });
const entry = (buildId: string, repository: string, day: string, costUsd: number): SpendEntry => ({ buildId, repository, day, costUsd });

describe('Function: reservationKey / parseReservationKey', () => {
  it('carries the cost, both times and the build in the key, under the fixed prefix the lifecycle rule expires', () => {
    const key = reservationKey(reservation('gh-1-x', 0.0496441, T, 'Acme/API'));
    expect(key).toBe(`spend/reserved/acme/api/49644-${T}-${T + 3_600_000}-gh-1-x`);
    expect(parseReservationKey(key)).toEqual(reservation('gh-1-x', 0.049644, T, 'acme/api'));
  });

  it('is not a spend entry, and a spend entry is not a reservation', () => {
    const key = reservationKey(reservation('b', 1));
    expect(parseSpendKey(key)).toBeUndefined();
    expect(parseReservationKey('spend/2026-11/30/acme/api/12346-gh-1')).toBeUndefined();
    expect(parseReservationKey('spend/reserved/acme/api/notes.txt')).toBeUndefined();
  });
});

describe('Function: openReservations', () => {
  it('drops expired ones and those whose build has an actual cost; a retried plan holds its latest only', () => {
    const all = [reservation('a', 1), reservation('b', 2, T, 'acme/api', T + 10), reservation('c', 3), reservation('d', 4, T), reservation('d', 5, T + 1)];
    expect(openReservations(all, new Set(['c']), T + 10)).toEqual([reservation('a', 1), reservation('d', 5, T + 1)]);
  });
});

describe('Function: reservationsCounted', () => {
  const own = reservation('tie-m', 1, T);
  const seen = [reservation('early', 1, T - 5), reservation('tie-a', 1, T), reservation('tie-z', 1, T), reservation('later', 1, T + 5), own];

  it('counts the reservations ordered before its own (time, then build id), never itself', () => {
    expect(reservationsCounted(own, seen, new Set(), T, false).map((r) => r.buildId)).toEqual(['early', 'tie-a']);
  });

  it('counts every reservation it sees when its own was written late', () => {
    expect(isLate(own, T + WRITE_WINDOW_MS)).toBe(false);
    expect(isLate(own, T + WRITE_WINDOW_MS + 1)).toBe(true);
    expect(reservationsCounted(own, seen, new Set(), T, true).map((r) => r.buildId)).toEqual(['early', 'tie-a', 'tie-z', 'later']);
  });
});

describe('Function: spendWithReservations', () => {
  it('adds open reservations to today and this month, farm-wide and for their repository, and says what they hold', () => {
    const entries = [entry('a', 'acme/api', '2026-11-30', 1.5), entry('b', 'acme/web', '2026-11-02', 4)];
    // A build planned yesterday and still running counts today: it will be billed when it ends.
    const counted = [reservation('r1', 0.25, T - 86_400_000), reservation('r2', 0.5, T, 'acme/web')];
    expect(spendWithReservations(entries, counted, 'acme/api', '2026-11-30')).toEqual({
      farmDayUsd: 2.25, farmMonthUsd: 6.25, repoDayUsd: 1.75, repoMonthUsd: 1.75, farmHeldUsd: 0.75, repoHeldUsd: 0.25,
    });
    expect(settledBuilds(entries)).toEqual(new Set(['a', 'b']));
  });

  it('a refusal says how much of the spend builds still running hold', () => {
    const spend = spendWithReservations([entry('a', 'acme/api', '2026-11-30', 9)], [reservation('r', 0.8)], 'acme/api', '2026-11-30');
    expect(admitByBudget('acme/api', 0.5, { dailyUsd: 10 }, spend)).toEqual({
      run: false,
      reason: "predicted $0.5000 would take spend past the farm's daily budget $10.00: $9.80 spent today (UTC), $0.8000 of it held by builds still running (BUILDFARM_DAILY_BUDGET_USD / DailyBudgetUSD)",
    });
  });
});

describe('Function: buildDurationBoundSeconds', () => {
  const stage = (name: string, runner: 'lambda' | 'fargate', timeoutSeconds: number, needs: string[] = []) => ({ name, runner, timeoutSeconds, needs }) as PlannedStage;

  it('follows the longest chain of needs: Lambda 960 s then escalated Fargate, each stage plus its slack, plus the build\'s', () => {
    // build (lambda 600 s) -> test (fargate 3600 s); lint (fargate 60 s) alone.
    // build: 960 + (600 + 1800) + 900 = 4260; test: 3600 + 1800 + 900 = 6300; chain 10560; + 1800 = 12360.
    const plan = { stages: [stage('build', 'lambda', 600), stage('test', 'fargate', 3600, ['build']), stage('lint', 'fargate', 60)] };
    expect(buildDurationBoundSeconds(plan)).toBe(12_360);
  });

  it('counts a Spot stage\'s task twice: an interrupted task runs again on demand, possibly near the end of its first run', () => {
    // test (fargate 3600 s, Spot): 2 x (3600 + 1800) + 900 = 11700; + 1800 = 13500.
    const spot = { ...stage('test', 'fargate', 3600), fargate: { spot: true } } as PlannedStage;
    expect(buildDurationBoundSeconds({ stages: [spot] })).toBe(13_500);
  });

  it('is capped, so no reservation outlives the lifecycle rule', () => {
    const chain = Array.from({ length: 10 }, (_, i) => stage(`s${i}`, 'fargate', 86_400, i === 0 ? [] : [`s${i - 1}`]));
    expect(buildDurationBoundSeconds({ stages: chain })).toBe(MAX_RESERVATION_SECONDS);
  });
});

/**
 * The admission rule against interleavings: builds planned at random moments, with clocks apart by
 * less than CLOCK_SKEW_MS and writes that sometimes take longer than the window (late), on a
 * store that is linearizable as S3 is (each write and each listing takes effect at one instant
 * between its request and its answer). Whatever the interleaving, the admitted builds fit.
 */
describe('Admission rule (simulated interleavings)', () => {
  function random(seed: number): () => number {
    let a = seed;
    return () => {
      a = (a + 0x6d2b79f5) | 0;
      let t = Math.imul(a ^ (a >>> 15), 1 | a);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  interface Options { wait: boolean; lateRule: boolean }

  /** One run: how much the admitted builds hold together, against the budget. */
  function simulate(seed: number, options: Options): { admittedUsd: number; budgetUsd: number; admitted: number } {
    const rnd = random(seed);
    const n = 2 + Math.floor(rnd() * 4);
    const budgetUsd = 1 + Math.floor(rnd() * n);
    const builds = Array.from({ length: n }, (_, i) => {
      const skew = (rnd() - 0.5) * CLOCK_SKEW_MS * 0.99; // own clock minus real time
      const start = rnd() * 1500;
      const putEffect = start + rnd() * (rnd() < 0.3 ? 3000 : 400); // sometimes late
      const putAnswer = putEffect + rnd() * 200;
      const own = reservation(`b${i}`, 1, Math.round(start + skew));
      const late = isLate(own, putAnswer + skew);
      const listAt = options.wait ? Math.max(putAnswer, listNotBeforeMs(own) - skew) : putAnswer;
      const listEffect = listAt + rnd() * 200;
      return { own, putEffect, late: options.lateRule && late, listEffect };
    });
    // Decide in the order the listings take effect; a refused build's delete takes effect right after.
    const deletedAt = new Map<string, number>();
    let admittedUsd = 0;
    let admitted = 0;
    for (const build of [...builds].sort((a, b) => a.listEffect - b.listEffect)) {
      const seen = builds.filter((b) => b.putEffect <= build.listEffect && !((deletedAt.get(b.own.buildId) ?? Infinity) <= build.listEffect)).map((b) => b.own);
      const held = reservationsCounted(build.own, seen, new Set(), 0, build.late).reduce((sum, r) => sum + r.costUsd, 0);
      if (held + build.own.costUsd <= budgetUsd) {
        admittedUsd += build.own.costUsd;
        admitted += 1;
      } else deletedAt.set(build.own.buildId, build.listEffect + 1);
    }
    return { admittedUsd, budgetUsd, admitted };
  }

  it('never admits builds that together pass the budget, and admits at least one when one fits', () => {
    for (let seed = 1; seed <= 5000; seed += 1) {
      const run = simulate(seed, { wait: true, lateRule: true });
      expect(run.admittedUsd, `seed ${seed}`).toBeLessThanOrEqual(run.budgetUsd);
    }
    // Liveness, when no write is late: the first in the order always fits (every budget here is >= one build).
    let someAdmitted = 0;
    for (let seed = 1; seed <= 5000; seed += 1) if (simulate(seed, { wait: true, lateRule: true }).admitted > 0) someAdmitted += 1;
    expect(someAdmitted).toBeGreaterThan(4500);
  });

  it('needs both the wait and the late rule: without either, some interleaving passes the budget', () => {
    const passes = (options: Options) => Array.from({ length: 5000 }, (_, i) => simulate(i + 1, options)).some((r) => r.admittedUsd > r.budgetUsd);
    expect(passes({ wait: false, lateRule: true })).toBe(true);
    expect(passes({ wait: true, lateRule: false })).toBe(true);
  });
});
