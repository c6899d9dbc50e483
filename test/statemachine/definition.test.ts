import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RUN_TASK_RETRYABLE } from '../../functions/domain/fargate/run-task-errors.js';
import { fargateStateTimeoutSeconds } from '../../functions/domain/fargate/task-timeout.js';
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

/**
 * What a lambda:invoke task is retried on: Lambda's own service errors and throttling, and the
 * client-side timeout of the invoke (https://docs.aws.amazon.com/step-functions/latest/dg/connect-lambda.html,
 * https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html).
 */
const LAMBDA_RETRYABLE = ['Lambda.ServiceException', 'Lambda.AWSLambdaException', 'Lambda.SdkClientException', 'Lambda.TooManyRequestsException', 'Lambda.ClientExecutionTimeoutException'];

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

  // The local farm runs the definition with the interpreter's own validation off (it cost every
  // `buildfarm run` 0.1 to 0.3 s), so the locally substituted definition is validated here instead.
  it('is valid ASL for asl-validator with the local farm\'s substitutions (the interpreter skips validation)', async () => {
    // Prepare
    const definition = JSON.parse(substitutePlaceholders(await definitionText(), localSubstitutions('us-east-1', 4)));

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
    const stageStates = definition.States['Run batches'].ItemProcessor.States['Run stages'].ItemProcessor.States;

    // Assess: the runners stop a stage at its own deadline; the state must not cut them short.
    expect(stageStates['Run on Lambda'].TimeoutSeconds).toBeGreaterThan(LAMBDA_MAX_TIMEOUT_SECONDS);
    // Fargate: the stage's own timeout (plus the task's overhead), from fargate-prepare's output.
    expect(stageStates['Run Fargate task'].TimeoutSeconds).toBeUndefined();
    expect(stageStates['Run Fargate task'].TimeoutSecondsPath).toBe('$.fargate.timeoutSeconds');
    expect(stageStates['Prepare Fargate task'].ResultSelector['timeoutSeconds.$']).toBe('$.Payload.timeoutSeconds');
    expect(fargateStateTimeoutSeconds(60)).toBeGreaterThan(60);
    // The longest stage still fits under the state machine's own limits: a Standard execution runs a year.
    expect(fargateStateTimeoutSeconds(MAX_TIMEOUT_SECONDS)).toBeLessThan(365 * 24 * 3600);
  });

  it('retries every Lambda task on the errors Lambda and the integration raise for a failed invoke, ClientExecutionTimeoutException included', async () => {
    // Prepare
    type State = { Type: string; Resource?: string; Retry?: { ErrorEquals: string[] }[]; ItemProcessor?: { States: Record<string, State> } };
    const definition = JSON.parse(await definitionText()) as { States: Record<string, State> };
    const missing: string[] = [];
    const visit = (states: Record<string, State>) => {
      for (const [name, state] of Object.entries(states)) {
        if (state.Resource === 'arn:aws:states:::lambda:invoke') {
          const retried = new Set((state.Retry ?? []).flatMap((r) => r.ErrorEquals));
          for (const error of LAMBDA_RETRYABLE) if (!retried.has(error)) missing.push(`${name}: ${error}`);
        }
        if (state.ItemProcessor) visit(state.ItemProcessor.States);
      }
    };

    // Act
    visit(definition.States);

    // Assess
    expect(missing).toEqual([]);
  });

  it('retries RunTask on every name the .sync integration gives capacity, throttling and server errors, and catches them into the Spot fallback', async () => {
    // Prepare
    const definition = JSON.parse(await definitionText());
    const runTask = definition.States['Run batches'].ItemProcessor.States['Run stages'].ItemProcessor.States['Run Fargate task'];

    // Assess
    expect(runTask.Retry[0].ErrorEquals).toEqual([...RUN_TASK_RETRYABLE]);
    expect(runTask.Retry[0].JitterStrategy).toBe('FULL');
    expect(runTask.Catch[0]).toMatchObject({ ErrorEquals: [...RUN_TASK_RETRYABLE], Next: 'Spot capacity?' });
    expect(RUN_TASK_RETRYABLE).toContain('AmazonECS.Unknown');
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
