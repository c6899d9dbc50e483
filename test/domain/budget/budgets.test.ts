import { describe, expect, it } from 'vitest';
import { admitByBudget } from '../../../functions/domain/budget/admit-by-budget.js';
import { budgetsFrom, parseRepoBudgets } from '../../../functions/domain/budget/budgets.js';
import { parseSpendKey, spendKey, sumSpend, type SpendEntry } from '../../../functions/domain/budget/spend-ledger.js';
import { InvalidFarmSetting } from '../../../functions/domain/plan/farm-policy.js';

const where = (names: { flag: string }) => names.flag;
const entry = (buildId: string, repository: string, day: string, costUsd: number): SpendEntry => ({ buildId, repository, day, costUsd });

describe('Function: spendKey / parseSpendKey', () => {
  it('carries the cost in the key, in micro-dollars, and reads it back', () => {
    const key = spendKey(entry('gh-1', 'Acme/API', '2026-11-30', 0.0123456));
    expect(key).toBe('spend/2026-11/30/acme/api/12346-gh-1');
    expect(parseSpendKey(key)).toEqual(entry('gh-1', 'acme/api', '2026-11-30', 0.012346));
  });

  it('ignores a key that is not a ledger entry', () => {
    expect(parseSpendKey('spend/2026-11/30/acme/api/notes.txt')).toBeUndefined();
    expect(parseSpendKey('spend/2026-11/readme')).toBeUndefined();
  });
});

describe('Function: sumSpend', () => {
  it('sums today and the month, farm-wide and for the repository, each build once', () => {
    const entries = [
      entry('a', 'acme/api', '2026-11-30', 1.5),
      entry('a', 'acme/api', '2026-11-30', 1.5), // a retried Report wrote the same build again
      entry('b', 'acme/web', '2026-11-30', 0.25),
      entry('c', 'acme/api', '2026-11-02', 4),
      entry('d', 'acme/web', '2026-11-01', 10),
    ];
    expect(sumSpend(entries, 'ACME/api', '2026-11-30')).toEqual({ farmDayUsd: 1.75, farmMonthUsd: 15.75, repoDayUsd: 1.5, repoMonthUsd: 5.5 });
  });
});

describe('Function: admitByBudget', () => {
  const spend = { farmDayUsd: 9.2, farmMonthUsd: 120, repoDayUsd: 2.9, repoMonthUsd: 40 };

  it('refuses a build whose prediction takes today\'s spend past the daily budget, naming it and the figures', () => {
    // $9.20 spent + $0.90 predicted = $10.10 > $10.
    const admission = admitByBudget('acme/api', 0.9, { dailyUsd: 10 }, spend);
    expect(admission).toEqual({
      run: false,
      reason: "predicted $0.9000 would take spend past the farm's daily budget $10.00: $9.20 spent today (UTC) (BUILDFARM_DAILY_BUDGET_USD / DailyBudgetUSD)",
    });
  });

  it('admits a build that lands exactly on the budget', () => {
    expect(admitByBudget('acme/api', 0.8, { dailyUsd: 10 }, spend)).toEqual({ run: true });
  });

  it('names the tightest budget when several are passed: the repository\'s monthly here', () => {
    // Room: farm daily $0.80, repository daily $0.10, repository monthly $0 -> the monthly one.
    const budgets = { dailyUsd: 10, repoDailyUsd: { 'acme/api': 3 }, repoMonthlyUsd: { 'acme/api': 40 } };
    const admission = admitByBudget('acme/api', 0.5, budgets, spend);
    expect(admission.run).toBe(false);
    expect(!admission.run && admission.reason).toBe(
      'predicted $0.5000 would take spend past the monthly budget of acme/api $40.00: $40.00 spent this month (UTC) (BUILDFARM_REPO_MONTHLY_BUDGETS_USD / RepoMonthlyBudgetsUSD)',
    );
  });

  it('a repository\'s budget does not apply to another repository', () => {
    expect(admitByBudget('acme/web', 0.5, { repoDailyUsd: { 'acme/api': 1 } }, spend)).toEqual({ run: true });
  });
});

describe('Function: budgetsFrom', () => {
  it('reads farm-wide and per-repository budgets; 0 and empty mean none', () => {
    expect(budgetsFrom({ daily: '10', monthly: '0', repoDaily: 'acme/api=2.50, Acme/Web=1', repoMonthly: '' }, where)).toEqual({
      dailyUsd: 10,
      repoDailyUsd: { 'acme/api': 2.5, 'acme/web': 1 },
    });
  });

  it('names the setting and the syntax when a value is bad', () => {
    expect(() => budgetsFrom({ daily: 'ten' }, where)).toThrow(/^--daily-budget: "ten" is not an amount in US dollars/);
    expect(() => parseRepoBudgets('acme=5', '--repo-daily-budget')).toThrow(InvalidFarmSetting);
    expect(() => parseRepoBudgets('acme=5', '--repo-daily-budget')).toThrow('--repo-daily-budget: "acme=5" is not owner/name=USD; allowed: comma-separated pairs such as acme/api=5,acme/web=2.50');
    expect(() => parseRepoBudgets('acme/api=5,acme/API=6', 'X')).toThrow('X: acme/api has two budgets; give each repository one');
  });
});
