import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StateMachineDoesNotExist,
  StopExecutionCommand,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { executionArnFor, SfnWorkflowStarter } from '../../../functions/adapters/aws/sfn-workflow-starter.js';
import { executionName } from '../../../functions/domain/webhook/execution-name.js';
import { aBuildRequest } from '../../support/build-requests.js';

const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:BuildFarm';
const sfn = mockClient(SFNClient);
const starter = () => new SfnWorkflowStarter(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE);

describe('Class: SfnWorkflowStarter', () => {
  beforeEach(() => {
    sfn.reset();
  });

  describe('Method: start', () => {
    it('sends exactly the StartExecution request, input as JSON text', async () => {
      // Prepare
      const arn = 'arn:aws:states:eu-west-1:123456789012:execution:BuildFarm:b-1';
      sfn.on(StartExecutionCommand).resolves({ executionArn: arn, startDate: new Date() });

      // Act
      const started = await starter().start('b-1', { buildId: 'b-1', request: { a: 1 } });

      // Assess
      expect(started).toEqual({ executionArn: arn, alreadyStarted: false });
      expect(sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input)).toEqual([
        { stateMachineArn: STATE_MACHINE, name: 'b-1', input: '{"buildId":"b-1","request":{"a":1}}' },
      ]);
    });

    it('counts ExecutionAlreadyExists as a duplicate and derives the execution ARN', async () => {
      // Prepare
      sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));

      // Act
      const started = await starter().start('b-1', {});

      // Assess
      expect(started).toEqual({ executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:BuildFarm:b-1', alreadyStarted: true });
    });

    it('turns any other error into WorkflowStartFailed, so the message is retried', async () => {
      // Prepare
      const cause = new StateMachineDoesNotExist({ message: 'no such machine', $metadata: {} });
      sfn.on(StartExecutionCommand).rejects(cause);

      // Act
      const error = await starter().start('b-1', {}).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'WorkflowStartFailed', cause });
    });
  });

  describe('Method: stop', () => {
    it('sends StopExecution with the reason as cause', async () => {
      // Prepare
      sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });

      // Act
      await starter().stop('arn:x', 'superseded');

      // Assess
      expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: 'arn:x', cause: 'superseded' }]);
    });

    it('treats an execution that no longer exists as stopped', async () => {
      // Prepare
      sfn.on(StopExecutionCommand).rejects(new ExecutionDoesNotExist({ message: 'gone', $metadata: {} }));

      // Act & Assess
      await expect(starter().stop('arn:x', 'superseded')).resolves.toBeUndefined();
    });

    it('cuts the cause to the 32,768 characters StopExecution allows', async () => {
      // Prepare
      sfn.on(StopExecutionCommand).resolves({});

      // Act
      await starter().stop('arn:x', 'r'.repeat(40_000));

      // Assess
      expect(sfn.commandCalls(StopExecutionCommand)[0].args[0].input.cause).toHaveLength(32_768);
    });
  });

  describe('Method: findRunning', () => {
    it('lists running executions, describes only this repository\'s, and keeps the branch\'s', async () => {
      // Prepare
      const main = aBuildRequest({ deliveryId: 'd-main' });
      const dev = aBuildRequest({ deliveryId: 'd-dev', branch: 'dev', ref: 'refs/heads/dev' });
      const other = aBuildRequest({ deliveryId: 'd-other', repository: 'zeta/web' });
      const executions = [main, dev, other].map((request) => {
        const name = executionName(request.deliveryId, request.repository);
        return { request, name, arn: executionArnFor(STATE_MACHINE, name) };
      });
      sfn
        .on(ListExecutionsCommand, { stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING', maxResults: 100, nextToken: undefined })
        .resolves({ executions: executions.slice(0, 2).map((e) => ({ executionArn: e.arn, name: e.name, stateMachineArn: STATE_MACHINE, status: 'RUNNING', startDate: new Date() })), nextToken: 'page-2' })
        .on(ListExecutionsCommand, { nextToken: 'page-2' })
        .resolves({ executions: executions.slice(2).map((e) => ({ executionArn: e.arn, name: e.name, stateMachineArn: STATE_MACHINE, status: 'RUNNING', startDate: new Date() })) });
      for (const e of executions) {
        sfn.on(DescribeExecutionCommand, { executionArn: e.arn }).resolves({ status: 'RUNNING', input: JSON.stringify({ buildId: e.name, request: e.request }) });
      }

      // Act
      const running = await starter().findRunning('acme/api', 'main');

      // Assess
      expect(running).toEqual([{ executionArn: executions[0].arn, input: { buildId: executions[0].name, request: main } }]);
      expect(sfn.commandCalls(ListExecutionsCommand)).toHaveLength(2);
      expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input.executionArn)).toEqual([executions[0].arn, executions[1].arn]);
    });

    it('ignores executions whose input is not a build (started by hand)', async () => {
      // Prepare
      const name = executionName('d', 'acme/api');
      sfn.on(ListExecutionsCommand).resolves({ executions: [{ executionArn: 'arn:e', name, stateMachineArn: STATE_MACHINE, status: 'RUNNING', startDate: new Date() }] });
      sfn.on(DescribeExecutionCommand).resolves({ status: 'RUNNING', input: 'not json' });

      // Act & Assess
      expect(await starter().findRunning('acme/api', 'main')).toEqual([]);
    });
  });
});

describe('Function: executionArnFor', () => {
  it.each([
    [STATE_MACHINE, 'arn:aws:states:eu-west-1:123456789012:execution:BuildFarm:n'],
    ['arn:aws-cn:states:cn-north-1:123456789012:stateMachine:Farm', 'arn:aws-cn:states:cn-north-1:123456789012:execution:Farm:n'],
    ['arn:aws:states:us-east-1:123456789012:stateMachine:Farm:3', 'arn:aws:states:us-east-1:123456789012:execution:Farm:n'],
  ])('turns %s into %s', (stateMachineArn, expected) => {
    // Assess
    expect(executionArnFor(stateMachineArn, 'n')).toBe(expected);
  });

  it('refuses an ARN that is not a state machine', () => {
    // Assess
    expect(() => executionArnFor('arn:aws:sns:us-east-1:1:topic', 'n')).toThrow(expect.objectContaining({ name: 'WorkflowStartFailed' }));
  });
});
