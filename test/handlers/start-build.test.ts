import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import type { SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SfnWorkflowStarter } from '../../functions/adapters/aws/sfn-workflow-starter.js';
import { EXECUTION_NAME_PATTERN, executionName } from '../../functions/domain/webhook/execution-name.js';
import { startBuild } from '../../functions/handlers/start-build-core.js';
import { createStartBuildHandler } from '../../functions/handlers/start-build.js';
import { aBuildRequest } from '../support/build-requests.js';
import { lambdaContext, loadEvent } from '../support/events.js';
import { enforceUniqueNames } from '../support/sfn-names.js';

const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:BuildFarm';
const sfn = mockClient(SFNClient);
const starter = () => new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);

function setup(env: Record<string, string> = {}) {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'start-build' });
  vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const handler = createStartBuildHandler({ env: { STATE_MACHINE_ARN: STATE_MACHINE, ...env }, sfn: new SFNClient({ region: 'us-east-1' }), logger, metrics });
  return { invoke: (event: SNSEvent) => handler(event, lambdaContext('start-build')), addMetric };
}

describe('Function: startBuild', () => {
  beforeEach(() => {
    sfn.reset();
  });

  it('starts an execution named after the delivery, with {buildId, request} as input', async () => {
    // Prepare
    enforceUniqueNames(sfn);
    const request = aBuildRequest();
    const name = executionName(request.deliveryId, request.repository);

    // Act
    const result = await startBuild(request, { starter: starter() });

    // Assess
    expect(result).toEqual({ executionName: name, executionArn: `arn:aws:states:us-east-1:123456789012:execution:BuildFarm:${name}`, alreadyStarted: false, stopped: [] });
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: STATE_MACHINE, name, input: JSON.stringify({ buildId: name, request }) },
    ]);
  });

  it('counts a redelivery (same delivery id, new receipt time) as success without a second execution', async () => {
    // Prepare
    const executions = enforceUniqueNames(sfn);
    const first = aBuildRequest();
    const redelivery = aBuildRequest({ receivedAt: '2026-11-23T08:00:00.000Z' });

    // Act
    const results = [await startBuild(first, { starter: starter() }), await startBuild(redelivery, { starter: starter() })];

    // Assess
    expect(results.map((r) => r.alreadyStarted)).toEqual([false, true]);
    expect(results[1].executionArn).toBe(results[0].executionArn);
    expect(executions.size).toBe(1);
  });

  it('throws when Step Functions fails, so SNS retries and the DLQ keeps the message', async () => {
    // Prepare
    sfn.on(StartExecutionCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    // Act & Assess
    await expect(startBuild(aBuildRequest(), { starter: starter() })).rejects.toMatchObject({ name: 'WorkflowStartFailed' });
  });

  it('names executions validly for hostile repositories, refs and delivery ids (property)', async () => {
    // Prepare
    enforceUniqueNames(sfn);
    const hostile = fc.record({
      deliveryId: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 200 })),
      repository: fc.oneof(fc.constantFrom('../../x', 'a/$(rm -rf ~)', 'ü/ñ', '💥/🔥', '/'), fc.string({ unit: 'binary', maxLength: 300 })),
      ref: fc.string({ maxLength: 300 }).map((s) => `refs/heads/${s}`),
    });

    // Act & Assess
    await fc.assert(
      fc.asyncProperty(hostile, async (fields) => {
        const result = await startBuild(aBuildRequest(fields), { starter: starter() });
        expect(result.executionName).toMatch(EXECUTION_NAME_PATTERN);
        expect(sfn.commandCalls(StartExecutionCommand).at(-1)?.args[0].input.name).toBe(result.executionName);
      }),
      { numRuns: 200 },
    );
  });

  describe('superseded builds', () => {
    const older = aBuildRequest({ deliveryId: 'older', receivedAt: '2026-11-22T11:00:00.000Z' });
    const olderRun = { executionArn: 'arn:older', input: { buildId: 'older-build', request: older } };

    it('stops older running builds of the branch when cancelSuperseded is on', async () => {
      // Prepare
      enforceUniqueNames(sfn);
      sfn.on(StopExecutionCommand).resolves({});
      const findRunning = vi.fn(async () => [olderRun]);

      // Act
      const result = await startBuild(aBuildRequest(), { starter: starter(), findRunning, cancelSuperseded: true });

      // Assess
      expect(findRunning).toHaveBeenCalledWith('acme/api', 'main');
      expect(result.stopped).toEqual(['arn:older']);
      expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([
        { executionArn: 'arn:older', cause: `superseded by ${'a'.repeat(40)} (delivery 72d3162e-cc78-11e3-81ab-4c9367dc0958)` },
      ]);
    });

    it('stops nothing when cancelSuperseded is off', async () => {
      // Prepare
      enforceUniqueNames(sfn);
      const findRunning = vi.fn(async () => [olderRun]);

      // Act
      const result = await startBuild(aBuildRequest(), { starter: starter(), findRunning });

      // Assess
      expect(findRunning).not.toHaveBeenCalled();
      expect(result.stopped).toEqual([]);
    });

    it('stops nothing for a duplicate: the first delivery already did', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
      const findRunning = vi.fn(async () => [olderRun]);

      // Act
      await startBuild(aBuildRequest(), { starter: starter(), findRunning, cancelSuperseded: true });

      // Assess
      expect(findRunning).not.toHaveBeenCalled();
    });
  });
});

describe('Function: handler (start-build)', () => {
  beforeEach(() => {
    sfn.reset();
  });

  it('starts the build in events/start-build.json with the exact StartExecution request', async () => {
    // Prepare
    enforceUniqueNames(sfn);
    const event = loadEvent<SNSEvent>('start-build.json');
    const request = JSON.parse(event.Records[0].Sns.Message);
    const name = executionName('9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d01', 'Codertocat/Hello-World');
    const { invoke, addMetric } = setup();

    // Act
    await invoke(event);

    // Assess
    expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: STATE_MACHINE, name, input: JSON.stringify({ buildId: name, request }) },
    ]);
    expect(name).toMatch(/^Codertocat_Hello-World-9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d01-[0-9a-f]{16}$/);
    expect(addMetric).toHaveBeenCalledWith('BuildStarted', 'Count', 1);
  });

  it('handles the same SNS message twice (an SNS retry) with one execution', async () => {
    // Prepare
    const executions = enforceUniqueNames(sfn);
    const { invoke } = setup();

    // Act
    await invoke(loadEvent('start-build.json'));
    await invoke(loadEvent('start-build.json'));

    // Assess
    expect(executions.size).toBe(1);
  });

  it('throws on a message that is not a build request, so it ends in the DLQ', async () => {
    // Prepare
    const event = loadEvent<SNSEvent>('start-build.json');
    event.Records[0].Sns.Message = '{"hello":"world"}';
    const { invoke } = setup();

    // Act & Assess
    await expect(invoke(event)).rejects.toMatchObject({ name: 'MalformedPayload' });
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('throws when STATE_MACHINE_ARN is not set', async () => {
    // Prepare
    const { invoke } = setup({ STATE_MACHINE_ARN: '' });

    // Act & Assess
    await expect(invoke(loadEvent('start-build.json'))).rejects.toThrow('STATE_MACHINE_ARN is not set');
  });

  it('with CANCEL_SUPERSEDED=true, finds the branch\'s older running build and stops it', async () => {
    // Prepare
    enforceUniqueNames(sfn);
    const event = loadEvent<SNSEvent>('start-build.json');
    const newer = JSON.parse(event.Records[0].Sns.Message);
    const older = { ...newer, deliveryId: 'older-delivery', receivedAt: '2026-11-22T11:00:00.000Z' };
    const olderName = executionName(older.deliveryId, older.repository);
    const olderArn = `arn:aws:states:us-east-1:123456789012:execution:BuildFarm:${olderName}`;
    sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: olderArn, name: olderName, stateMachineArn: STATE_MACHINE, status: 'RUNNING', startDate: new Date() }] });
    sfn.on(DescribeExecutionCommand, { executionArn: olderArn }).resolves({ status: 'RUNNING', input: JSON.stringify({ buildId: olderName, request: older }) });
    sfn.on(StopExecutionCommand).resolves({});
    const { invoke, addMetric } = setup({ CANCEL_SUPERSEDED: 'true' });

    // Act
    await invoke(event);

    // Assess
    expect(sfn.commandCalls(ListExecutionsCommand)[0].args[0].input).toEqual({ stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING', maxResults: 100, nextToken: undefined });
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([olderArn]);
    expect(addMetric).toHaveBeenCalledWith('BuildSuperseded', 'Count', 1);
  });
});
