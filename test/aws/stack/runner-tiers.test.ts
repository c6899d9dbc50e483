/**
 * Defect 1 (issue 9): Lambda runner tiers above 3008 MB fail stack creation on accounts still
 * at the new-account Lambda memory quota. The deployed tiers follow LambdaRunnerMaxMemoryMB,
 * and everything that names a runner (the planner's tier list, Schedule's RUNNER_FUNCTIONS,
 * the default runner substitution, the state machine role's InvokeFunction) names exactly the
 * deployed ones. Checked on the SAM-translated template with every intrinsic resolved; a
 * reference to a resource the stack does not create fails the resolution, as CloudFormation would.
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_DEPLOYED_LAMBDA_TIERS_MB,
  LAMBDA_RUNNER_TIERS_MB,
  NEW_ACCOUNT_LAMBDA_MEMORY_QUOTA_MB,
  parseLambdaRunnerTiers,
} from '../../../functions/domain/sizing/lambda-sizes.js';
import { DEFAULT_STACK, StackResolver } from '../../support/iam/resolve-intrinsics.js';
import { samTranslatorUnavailable, translatedTemplate } from '../../support/iam/sam-template.js';

const unavailable = samTranslatorUnavailable();
if (unavailable) console.warn(`SKIPPED runner-tier wiring on the SAM-translated template: ${unavailable}`);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe.skipIf(unavailable !== undefined)('Lambda runner tiers (SAM-translated template)', () => {
  const template = unavailable ? { Resources: {}, Parameters: {} } : translatedTemplate();
  const stackWith = (max?: string) =>
    new StackResolver(template, { ...DEFAULT_STACK, parameters: { ...DEFAULT_STACK.parameters, ...(max ? { LambdaRunnerMaxMemoryMB: max } : {}) } });

  /** The runner functions a stack creates, by memory. */
  function runners(stack: StackResolver): Map<number, string> {
    const found = new Map<number, string>();
    for (const [id, r] of Object.entries(stack.deployedResources())) {
      if (r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'lambda-runner.handler') {
        found.set(Number(stack.resolve(r.Properties.MemorySize)), stack.getAtt(id, 'Arn'));
      }
    }
    return found;
  }

  it('deploys by default only functions a new account can create (at most 3008 MB each)', () => {
    const stack = stackWith();
    const memories = Object.values(stack.deployedResources())
      .filter((r: Json) => r.Type === 'AWS::Lambda::Function')
      .map((r: Json) => Number(stack.resolve(r.Properties.MemorySize ?? 128)));
    expect(Math.max(...memories)).toBeLessThanOrEqual(NEW_ACCOUNT_LAMBDA_MEMORY_QUOTA_MB);
    expect([...runners(stack).keys()].sort((a, b) => a - b)).toEqual([...DEFAULT_DEPLOYED_LAMBDA_TIERS_MB]);
  });

  const maxima: string[] = template.Parameters?.LambdaRunnerMaxMemoryMB?.AllowedValues ?? [];
  it('offers every tier from the default up to 10240 MB', () => {
    expect(maxima.map(Number)).toEqual(LAMBDA_RUNNER_TIERS_MB.filter((t) => t >= Math.max(...DEFAULT_DEPLOYED_LAMBDA_TIERS_MB)));
  });

  describe.each(maxima.map((m) => [m]))('LambdaRunnerMaxMemoryMB=%s', (max) => {
    const stack = stackWith(max);
    const deployed = () => runners(stack);
    const env = (fn: string) => stack.resolve(template.Resources[fn].Properties.Environment.Variables);

    it('deploys every tier up to it, and no other', () => {
      expect([...deployed().keys()].sort((a, b) => a - b)).toEqual(LAMBDA_RUNNER_TIERS_MB.filter((t) => t <= Number(max)));
    });

    it('tells the planner exactly the deployed tiers', () => {
      expect(parseLambdaRunnerTiers(env('PlanFunction').LAMBDA_RUNNER_TIERS_MB, 'LAMBDA_RUNNER_TIERS_MB')).toEqual([...deployed().keys()].sort((a, b) => a - b));
    });

    it('gives Select stages exactly the deployed runners, by tier', () => {
      const routes = JSON.parse(env('ScheduleFunction').RUNNER_FUNCTIONS);
      expect(routes).toEqual(Object.fromEntries([...deployed()].map(([tier, arn]) => [String(tier), arn])));
    });

    it('makes the largest deployed tier the default runner', () => {
      const substitutions = stack.resolve(template.Resources.BuildStateMachine.Properties.DefinitionSubstitutions);
      expect(substitutions.LambdaRunnerFunctionArn).toBe(deployed().get(Math.max(...deployed().keys())));
    });

    it('lets the state machine invoke exactly the deployed runners', () => {
      const policies = stack.resolve(template.Resources.BuildStateMachineRole.Properties.Policies);
      const invokable = policies
        .flatMap((p: Json) => p.PolicyDocument.Statement)
        .filter((s: Json) => [s.Action].flat().includes('lambda:InvokeFunction'))
        .flatMap((s: Json) => [s.Resource].flat())
        .filter((arn: string) => arn.includes('LambdaRunner'));
      expect(invokable.sort()).toEqual([...deployed().values()].sort());
    });

    it('references no resource the stack leaves out', () => {
      for (const [id, r] of Object.entries(stack.deployedResources())) expect(() => stack.resolve(r), id).not.toThrow();
      expect(() => stack.resolve(template.Outputs ?? {})).not.toThrow();
    });
  });
});
