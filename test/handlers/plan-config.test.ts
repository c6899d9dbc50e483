/** The Plan function's farm settings come from the environment template.yaml sets. */
import { describe, expect, it } from 'vitest';
import { plannerConfigFromEnvironment } from '../../functions/handlers/plan.js';

describe('Function: plannerConfigFromEnvironment', () => {
  it('reads the deployed runner tiers and the runners\' /tmp', () => {
    expect(plannerConfigFromEnvironment({ LAMBDA_RUNNER_TIERS_MB: '1024,2048', LAMBDA_EPHEMERAL_STORAGE_MB: '2048' }, 'us-east-1')).toEqual({
      region: 'us-east-1',
      lambdaEphemeralStorageMB: 2048,
      lambdaRunnerTiersMB: [1024, 2048],
    });
  });

  it('plans with every tier when the variable is absent (a stack from before the parameter)', () => {
    expect(plannerConfigFromEnvironment({}, 'us-east-1')).toEqual({ region: 'us-east-1', lambdaEphemeralStorageMB: 512 });
  });

  it('refuses a malformed tier list, naming the variable', () => {
    expect(() => plannerConfigFromEnvironment({ LAMBDA_RUNNER_TIERS_MB: '1024,3008' }, 'us-east-1')).toThrow(/LAMBDA_RUNNER_TIERS_MB: "1024,3008" is not a list of Lambda runner tiers \(3008 unknown\)/);
  });
});
