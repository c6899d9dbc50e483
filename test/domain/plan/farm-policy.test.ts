/** The farm policy's settings as text (flags, environment variables, template parameters). */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FORK_BUILD_COST_USD,
  farmPolicyFrom,
  InvalidFarmSetting,
  parseCostLimitUsd,
  parseForkPolicy,
} from '../../../functions/domain/plan/farm-policy.js';

const where = (names: { env: string }) => names.env;

describe('Function: parseForkPolicy', () => {
  it.each(['build', 'no-secrets', 'off', ' off '])('takes %j', (text) => {
    expect(parseForkPolicy(text, '--forks')).toBe(text.trim());
  });

  it.each(['', 'on', 'OFF', 'nosecrets', 'false'])('rejects %j, naming the setting and what is allowed', (text) => {
    expect(() => parseForkPolicy(text, '--forks')).toThrow(new InvalidFarmSetting(`--forks: "${text}" is not a fork policy; allowed: build, no-secrets, off`));
  });
});

describe('Function: parseCostLimitUsd', () => {
  it.each([
    ['0.50', 0.5],
    ['2', 2],
    ['$1.25', 1.25],
    ['0', 0],
    [' 3.5 ', 3.5],
  ])('reads %j as %s', (text, usd) => {
    expect(parseCostLimitUsd(text, 'X')).toBe(usd);
  });

  it('reads an empty value as no limit', () => {
    expect(parseCostLimitUsd('', 'X')).toBeUndefined();
  });

  it.each(['-1', 'abc', '1e3', '0x10', 'Infinity', '1.', '.5', '1,50'])('rejects %j, naming the setting', (text) => {
    expect(() => parseCostLimitUsd(text, 'BUILDFARM_MAX_BUILD_COST_USD')).toThrow(
      `BUILDFARM_MAX_BUILD_COST_USD: "${text}" is not an amount in US dollars; allowed: a number of 0 or more (e.g. 0.50), or empty for no limit`,
    );
  });
});

describe('Function: farmPolicyFrom', () => {
  it('defaults to no-secrets, no build limit and the low fork limit', () => {
    expect(farmPolicyFrom({}, where)).toEqual({ forks: 'no-secrets', maxForkBuildCostUsd: DEFAULT_MAX_FORK_BUILD_COST_USD });
    expect(DEFAULT_MAX_FORK_BUILD_COST_USD).toBe(0.5);
  });

  it('takes every setting, and an empty fork limit as none', () => {
    expect(farmPolicyFrom({ forks: 'off', maxBuildCostUsd: '5', maxForkBuildCostUsd: '' }, where)).toEqual({ forks: 'off', maxBuildCostUsd: 5 });
  });

  it('names the setting a bad value came from', () => {
    expect(() => farmPolicyFrom({ maxForkBuildCostUsd: 'lots' }, where)).toThrow(/^BUILDFARM_MAX_FORK_BUILD_COST_USD: "lots"/);
    expect(() => farmPolicyFrom({ forks: 'yes' }, where)).toThrow(/^BUILDFARM_FORKS: "yes"/);
  });
});
