/**
 * template.yaml's fork policy and cost limit parameters agree with the code that reads them:
 * the same allowed values, defaults that mean the domain's defaults, an AllowedPattern that
 * accepts exactly what the plan function parses, and the Plan function's environment wired to them.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { yamlParse } from 'yaml-cfn';
import { DEFAULT_FARM_POLICY, FORK_POLICIES, parseCostLimitUsd } from '../../functions/domain/plan/farm-policy.js';
import { farmPolicyFromEnvironment } from '../../functions/handlers/farm-policy-environment.js';

const ROOT = resolve(import.meta.dirname, '../..');
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const template: any = yamlParse(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));
const parameters = template.Parameters;
const planEnvironment = template.Resources.PlanFunction.Properties.Environment.Variables;

describe('template.yaml: fork policy and cost limits', () => {
  it('offers exactly the fork policies the code knows, as strings (a bare YAML off would be false)', () => {
    expect(parameters.ForkPolicy.AllowedValues).toEqual([...FORK_POLICIES]);
    expect(parameters.ForkPolicy.Default).toBe('no-secrets');
  });

  it('passes each parameter to the Plan function under the variable it reads', () => {
    expect(planEnvironment).toMatchObject({
      BUILDFARM_FORKS: { Ref: 'ForkPolicy' },
      BUILDFARM_MAX_BUILD_COST_USD: { Ref: 'MaxBuildCostUsd' },
      BUILDFARM_MAX_FORK_BUILD_COST_USD: { Ref: 'MaxForkBuildCostUsd' },
    });
  });

  it('defaults to the domain\'s policy: no-secrets, no build limit, forks at most $0.50', () => {
    // Act: the Plan function's environment as CloudFormation resolves it with the defaults
    const policy = farmPolicyFromEnvironment({
      BUILDFARM_FORKS: parameters.ForkPolicy.Default,
      BUILDFARM_MAX_BUILD_COST_USD: parameters.MaxBuildCostUsd.Default,
      BUILDFARM_MAX_FORK_BUILD_COST_USD: parameters.MaxForkBuildCostUsd.Default,
    });
    // Assess
    expect(policy).toEqual(DEFAULT_FARM_POLICY);
  });

  it.each(['', '0', '0.50', '12', '2.5', '-1', 'abc', '1e3', '.5', '1.', ' 1', '$1'])(
    'accepts %j at deploy time exactly when the plan function would (no value passes CloudFormation and fails every build)',
    (text) => {
      // AllowedPattern must match the whole value (CloudFormation anchors it; the pattern anchors itself too).
      const pattern = new RegExp(`^(?:${parameters.MaxBuildCostUsd.AllowedPattern})$`);
      const parses = (() => {
        try {
          parseCostLimitUsd(text, 'x');
          return true;
        } catch {
          return false;
        }
      })();
      // The code also takes a leading `$` and spaces (flags typed by a person); the template need not.
      if (pattern.test(text)) expect(parses).toBe(true);
      if (!/^\s|\s$|^\$/.test(text)) expect(pattern.test(text)).toBe(parses);
      expect(parameters.MaxForkBuildCostUsd.AllowedPattern).toBe(parameters.MaxBuildCostUsd.AllowedPattern);
    },
  );
});
