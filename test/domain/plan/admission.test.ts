/**
 * The farm's decision to run a build or refuse it (domain/plan/admission.ts): the fork policy,
 * the cost limits, and whether stages may get secrets.
 */
import { describe, expect, it } from 'vitest';
import { admitByCost, admitByForkPolicy, formatLimitUsd, secretsWithheld } from '../../../functions/domain/plan/admission.js';
import { DEFAULT_FARM_POLICY, FORK_POLICIES, type FarmPolicy, type ForkPolicy } from '../../../functions/domain/plan/farm-policy.js';

const FORK = { fromFork: true };
const OWN = { fromFork: false };
const policy = (forks: ForkPolicy, limits: Partial<FarmPolicy> = {}): FarmPolicy => ({ forks, ...limits });

describe('Function: secretsWithheld', () => {
  it.each<[ForkPolicy, boolean, boolean]>([
    ['build', true, false],
    ['no-secrets', true, true],
    ['off', true, true],
    ['build', false, false],
    ['no-secrets', false, false],
    ['off', false, false],
  ])('forks: %s, fromFork %s -> withheld %s', (forks, fromFork, expected) => {
    // Act
    const withheld = secretsWithheld({ fromFork }, policy(forks));
    // Assess
    expect(withheld).toBe(expected);
  });

  it('withholds a fork\'s secrets under the default policy', () => {
    expect(DEFAULT_FARM_POLICY.forks).toBe('no-secrets');
    expect(secretsWithheld(FORK, DEFAULT_FARM_POLICY)).toBe(true);
  });
});

describe('Function: admitByForkPolicy', () => {
  it('refuses a fork pull request under forks: off, naming the setting', () => {
    // Act
    const admission = admitByForkPolicy(FORK, policy('off'));
    // Assess
    expect(admission).toEqual({ run: false, reason: 'pull requests from forks are not built on this farm (forks: off; BUILDFARM_FORKS / ForkPolicy)' });
  });

  it.each(FORK_POLICIES)('never refuses a build of the repository\'s own branches (forks: %s)', (forks) => {
    expect(admitByForkPolicy(OWN, policy(forks))).toEqual({ run: true });
  });

  it.each<ForkPolicy>(['build', 'no-secrets'])('lets a fork pull request build under forks: %s', (forks) => {
    expect(admitByForkPolicy(FORK, policy(forks))).toEqual({ run: true });
  });
});

describe('Function: admitByCost', () => {
  it('refuses a fork predicted over the fork limit with the figures and both names of the setting', () => {
    // Act
    const admission = admitByCost(FORK, 1.2345, policy('no-secrets', { maxForkBuildCostUsd: 0.5 }));
    // Assess
    expect(admission).toEqual({
      run: false,
      reason: 'predicted $1.23 exceeds the fork build limit $0.50 (BUILDFARM_MAX_FORK_BUILD_COST_USD / MaxForkBuildCostUsd)',
    });
  });

  it('refuses any build predicted over the build limit', () => {
    // Act
    const admission = admitByCost(OWN, 7.5, policy('no-secrets', { maxBuildCostUsd: 5, maxForkBuildCostUsd: 0.5 }));
    // Assess
    expect(admission).toEqual({ run: false, reason: 'predicted $7.50 exceeds the build limit $5.00 (BUILDFARM_MAX_BUILD_COST_USD / MaxBuildCostUsd)' });
  });

  it('does not apply the fork limit to the repository\'s own builds', () => {
    expect(admitByCost(OWN, 3, policy('no-secrets', { maxForkBuildCostUsd: 0.5 }))).toEqual({ run: true });
  });

  it('names the lower limit when a fork exceeds both', () => {
    // Act
    const lowBuild = admitByCost(FORK, 2, policy('build', { maxBuildCostUsd: 0.25, maxForkBuildCostUsd: 1 }));
    const lowFork = admitByCost(FORK, 2, policy('build', { maxBuildCostUsd: 1, maxForkBuildCostUsd: 0.25 }));
    // Assess
    expect(lowBuild).toMatchObject({ run: false, reason: expect.stringContaining('the build limit $0.25 (BUILDFARM_MAX_BUILD_COST_USD') });
    expect(lowFork).toMatchObject({ run: false, reason: expect.stringContaining('the fork build limit $0.25 (BUILDFARM_MAX_FORK_BUILD_COST_USD') });
  });

  it('applies the fork limit whatever the fork policy (also forks: build)', () => {
    expect(admitByCost(FORK, 0.6, policy('build', { maxForkBuildCostUsd: 0.5 }))).toMatchObject({ run: false });
  });

  it('runs a build predicted exactly at the limit, and refuses one a tenth of a cent over', () => {
    const limits = policy('no-secrets', { maxBuildCostUsd: 0.5 });
    expect(admitByCost(OWN, 0.5, limits)).toEqual({ run: true });
    expect(admitByCost(OWN, 0.501, limits)).toMatchObject({ run: false });
  });

  it('with a limit of 0, refuses every build predicted to cost anything', () => {
    const zero = policy('no-secrets', { maxBuildCostUsd: 0 });
    expect(admitByCost(OWN, 0.0001, zero)).toMatchObject({ run: false, reason: expect.stringContaining('exceeds the build limit $0.00') });
    expect(admitByCost(OWN, 0, zero)).toEqual({ run: true });
  });

  it('refuses a prediction that is not a number rather than let it through a limit', () => {
    expect(admitByCost(OWN, Number.NaN, policy('no-secrets', { maxBuildCostUsd: 1 }))).toMatchObject({ run: false, reason: expect.stringContaining('predicted $?') });
  });

  it('runs everything when no limit is set', () => {
    expect(admitByCost(FORK, 1e6, policy('build'))).toEqual({ run: true });
  });
});

describe('Function: formatLimitUsd', () => {
  it.each([
    [0.5, '$0.50'],
    [2, '$2.00'],
    [0, '$0.00'],
    [0.005, '$0.0050'],
    [12.34, '$12.34'],
  ])('%s reads %s', (usd, text) => {
    expect(formatLimitUsd(usd)).toBe(text);
  });
});
