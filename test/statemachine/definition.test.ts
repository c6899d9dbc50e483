import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { MAX_TIMEOUT_SECONDS } from '../../functions/domain/pipeline/limits.js';
import { LAMBDA_MAX_TIMEOUT_SECONDS } from '../../functions/domain/sizing/lambda-sizes.js';
import { BUILD_STATE_MACHINE_PLACEHOLDERS } from '../../functions/handlers/build-state-machine.js';
import {
  definitionUrl,
  localSubstitutions,
  placeholdersIn,
  substitutePlaceholders,
  UnknownPlaceholder,
} from '../../functions/local/asl-definition.js';

type AslValidator = (definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }) => {
  isValid: boolean;
  errorsText(separator?: string): string;
};
// asl-validator ships CommonJS without types.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

/** Substitutions shaped like a real deployment's, so ARN checks apply. */
const DEPLOYED = {
  ...localSubstitutions('eu-west-1', 8),
  PlanFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:buildfarm-plan',
  ClusterArn: 'arn:aws:ecs:eu-west-1:123456789012:cluster/buildfarm',
  SubnetIds: 'subnet-0a1b2c3d,subnet-4e5f6a7b',
  SecurityGroupIds: 'sg-0123456789abcdef0',
  AssignPublicIp: 'ENABLED',
};

async function definitionText(): Promise<string> {
  return readFile(definitionUrl(), 'utf8');
}

describe('Definition: statemachines/build.asl.json', () => {
  it('is valid ASL for asl-validator once the placeholders are substituted', async () => {
    // Prepare
    const definition = JSON.parse(substitutePlaceholders(await definitionText(), DEPLOYED));

    // Act
    const result = aslValidator(definition, { checkPaths: true, checkArn: true });

    // Assess
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('uses every exported placeholder, and no other', async () => {
    // Act
    const used = placeholdersIn(await definitionText());

    // Assess
    expect([...used].sort()).toEqual(Object.keys(BUILD_STATE_MACHINE_PLACEHOLDERS).sort());
  });

  it('is JSON before substitution (the file opens in any editor and in the Workflow Studio)', async () => {
    await expect(definitionText().then((text) => JSON.parse(text))).resolves.toHaveProperty('StartAt', 'Plan');
  });

  it('gives each runner state more time than the longest stage it may run', async () => {
    // Prepare
    const definition = JSON.parse(await definitionText());
    const stageStates = definition.States['Run waves'].ItemProcessor.States['Run stages'].ItemProcessor.States;

    // Assess: the runners stop a stage at its own deadline; the state must not cut them short.
    expect(stageStates['Run on Lambda'].TimeoutSeconds).toBeGreaterThan(LAMBDA_MAX_TIMEOUT_SECONDS);
    expect(stageStates['Run Fargate task'].TimeoutSeconds).toBeGreaterThan(MAX_TIMEOUT_SECONDS);
  });

  it('refuses a placeholder the list does not know', () => {
    expect(() => substitutePlaceholders('{"a": "${Nope}"}', DEPLOYED)).toThrow(UnknownPlaceholder);
  });

  it('routes every Catch of every state to a state that exists in its scope', async () => {
    // Prepare
    type State = { Next?: string; Default?: string; Catch?: { Next: string }[]; Choices?: { Next: string }[]; ItemProcessor?: { StartAt: string; States: Record<string, State> } };
    const definition = JSON.parse(await definitionText()) as { StartAt: string; States: Record<string, State> };
    const missing: string[] = [];
    const check = (scope: { StartAt: string; States: Record<string, State> }) => {
      const names = new Set(Object.keys(scope.States));
      if (!names.has(scope.StartAt)) missing.push(scope.StartAt);
      for (const state of Object.values(scope.States)) {
        const targets = [state.Next, state.Default, ...(state.Catch ?? []).map((c) => c.Next), ...(state.Choices ?? []).map((c) => c.Next)];
        for (const target of targets) if (target !== undefined && !names.has(target)) missing.push(target);
        if (state.ItemProcessor) check(state.ItemProcessor);
      }
    };

    // Act
    check(definition);

    // Assess
    expect(missing).toEqual([]);
  });
});
