/**
 * The planner knows which Lambda runner tiers the farm deploys (template parameter
 * LambdaRunnerMaxMemoryMB; new accounts are held at 3008 MB of Lambda memory). A stage that
 * needs more than the largest deployed tier goes to Fargate, saying why; `runner: lambda`
 * on such a stage is a plan error naming the setting.
 */
import { describe, expect, it } from 'vitest';
import { PipelineInvalid, UserError } from '../../../functions/domain/errors.js';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import type { PlannerConfig } from '../../../functions/domain/plan/types.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import {
  DEFAULT_DEPLOYED_LAMBDA_TIERS_MB,
  LAMBDA_RUNNER_TIERS_MB,
  lambdaTierFor,
  parseLambdaRunnerTiers,
} from '../../../functions/domain/sizing/lambda-sizes.js';

const freshAccount: PlannerConfig = { region: 'us-east-1', lambdaEphemeralStorageMB: 512, lambdaRunnerTiersMB: DEFAULT_DEPLOYED_LAMBDA_TIERS_MB };

function planOf(resources: string, config: PlannerConfig, runner = '') {
  const yaml = `version: 1\nstages:\n  s:\n    commands: [make]\n    resources: ${resources}\n${runner ? `    runner: ${runner}\n` : ''}`;
  return planPipeline(parsePipeline(yaml), { event: 'push', branch: 'main' }, config, { prices: DEFAULT_PRICE_BOOK });
}

describe('deployed Lambda runner tiers', () => {
  it('deploys by default only tiers a new account can create (at most 3008 MB)', () => {
    expect(DEFAULT_DEPLOYED_LAMBDA_TIERS_MB.length).toBeGreaterThan(0);
    expect(Math.max(...DEFAULT_DEPLOYED_LAMBDA_TIERS_MB)).toBeLessThanOrEqual(3008);
  });

  it('sends a stage bigger than the largest deployed tier to Fargate, naming the tier and the parameter', () => {
    const [s] = planOf('{ memory: 4GiB }', freshAccount).stages;
    expect(s.runner).toBe('fargate');
    expect(s.reason).toMatch(/over the largest Lambda runner this farm deploys \(2048 MB; raise LambdaRunnerMaxMemoryMB/);
    expect(s.lambda).toBeUndefined();
  });

  it('counts the memory a stage\'s cpu needs on Lambda (2 vCPU is 3538 MB)', () => {
    expect(planOf('{ cpu: 2 }', freshAccount).stages[0].runner).toBe('fargate');
    expect(planOf('{ cpu: 1 }', freshAccount).stages[0]).toMatchObject({ runner: 'lambda', lambda: { memoryMB: 2048 } });
  });

  it('uses a big tier once it is deployed', () => {
    expect(planOf('{ memory: 4GiB }', { ...freshAccount, lambdaRunnerTiersMB: LAMBDA_RUNNER_TIERS_MB }).stages[0].lambda?.memoryMB).toBe(4096);
    const plan = planOf('{ memory: 4GiB }', { ...freshAccount, lambdaRunnerTiersMB: [1024, 2048, 4096, 6144] });
    expect(plan.stages[0]).toMatchObject({ runner: 'lambda', lambda: { memoryMB: 4096 } });
  });

  it('refuses runner: lambda on a stage over the largest deployed tier, naming the setting', () => {
    expect(() => planOf('{ memory: 4GiB }', freshAccount, 'lambda')).toThrow(PipelineInvalid);
    expect(() => planOf('{ memory: 4GiB }', freshAccount, 'lambda')).toThrow(/LambdaRunnerMaxMemoryMB/);
  });

  it('still prices the Lambda road not taken on the tier Lambda would offer', () => {
    const [s] = planOf('{ memory: 4GiB }', freshAccount).stages;
    expect(s.predictedCostUsd).toBeGreaterThan(0);
    expect(lambdaTierFor(4096, [1024, 2048])).toBeUndefined();
  });

  describe('parseLambdaRunnerTiers', () => {
    it('reads a comma-separated list, sorted and without repeats', () => {
      expect(parseLambdaRunnerTiers('2048, 1024,2048', 'X')).toEqual([1024, 2048]);
    });
    it.each(['', '1024,3000', 'big'])('rejects %j naming where and the allowed tiers', (text) => {
      expect(() => parseLambdaRunnerTiers(text, 'LAMBDA_RUNNER_TIERS_MB')).toThrow(UserError);
      expect(() => parseLambdaRunnerTiers(text, 'LAMBDA_RUNNER_TIERS_MB')).toThrow(/LAMBDA_RUNNER_TIERS_MB: .* allowed: comma-separated values of 1024, 2048, 4096/);
    });
  });
});
