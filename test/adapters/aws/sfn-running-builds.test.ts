import { DescribeExecutionCommand, ListExecutionsCommand, SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SfnRunningBuilds, stateMachineArnOf } from '../../../functions/adapters/aws/sfn-running-builds.js';
import type { BuildRequest } from '../../../functions/domain/build-request.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';
import { executionName } from '../../../functions/domain/webhook/execution-name.js';
import { planTask } from '../../../functions/handlers/plan.js';
import { aBuildRequest } from '../../support/build-requests.js';
import { tarball } from '../../statemachine/support/farm.js';
import { MemoryStore } from '../../statemachine/support/memory-store.js';

const sfn = mockClient(SFNClient);
const STATE_MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:farm-build';

describe('Function: stateMachineArnOf', () => {
  it.each([
    ['arn:aws:states:eu-west-1:123456789012:execution:farm-build:b-1', STATE_MACHINE],
    ['arn:aws-cn:states:cn-north-1:123456789012:execution:Farm:n', 'arn:aws-cn:states:cn-north-1:123456789012:stateMachine:Farm'],
  ])('turns the execution %s into its state machine %s', (executionArn, expected) => {
    // Act & Assess
    expect(stateMachineArnOf(executionArn)).toBe(expected);
  });

  it.each(['local:b-1', 'arn:aws:states:eu-west-1:123456789012:stateMachine:farm-build', 'arn:aws:lambda:eu-west-1:1:function:f:x'])('refuses %s, which is not an execution', (arn) => {
    // Act & Assess
    expect(() => stateMachineArnOf(arn)).toThrow(expect.objectContaining({ name: 'NotAnExecutionArn' }));
  });
});

describe('Class: SfnRunningBuilds', () => {
  beforeEach(() => {
    sfn.reset();
  });

  /** An execution of STATE_MACHINE as ListExecutions lists it and DescribeExecution describes it. */
  function execution(request: BuildRequest) {
    const name = executionName(request.deliveryId, request.repository);
    const arn = `arn:aws:states:eu-west-1:123456789012:execution:farm-build:${name}`;
    sfn.on(DescribeExecutionCommand, { executionArn: arn }).resolves({ status: 'RUNNING', input: JSON.stringify({ buildId: name, request }) });
    return { name, arn, listed: { executionArn: arn, name, stateMachineArn: STATE_MACHINE, status: 'RUNNING' as const, startDate: new Date() } };
  }

  it('lets the Plan task stop the older build of its branch: exact ListExecutions, DescribeExecution and StopExecution requests', async () => {
    // Prepare: an older push and a newer one of main, both running; the newer one plans.
    const older = execution(aBuildRequest({ deliveryId: 'd-older', receivedAt: '2026-11-22T12:00:00.000Z' }));
    const newerRequest = aBuildRequest({ deliveryId: 'd-newer', receivedAt: '2026-11-22T12:05:00.000Z' });
    const newer = execution(newerRequest);
    sfn.on(ListExecutionsCommand).resolves({ executions: [newer.listed, older.listed] });
    sfn.on(StopExecutionCommand).resolves({ stopDate: new Date() });
    const deps = {
      store: new MemoryStore(),
      source: { snapshot: () => tarball({ '.buildfarm.yml': 'version: 1\ncancel-superseded: true\nstages:\n  build:\n    commands: [make]\n' }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
      running: new SfnRunningBuilds(new SFNClient({ region: 'eu-west-1' }), stateMachineArnOf(newer.arn)),
    };

    // Act
    await planTask({ buildId: newer.name, request: newerRequest, maxStageConcurrency: '4', executionArn: newer.arn }, deps);

    // Assess
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      { stateMachineArn: STATE_MACHINE, statusFilter: 'RUNNING', maxResults: 100, nextToken: undefined },
    ]);
    expect(sfn.commandCalls(DescribeExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: newer.arn }, { executionArn: older.arn }]);
    expect(sfn.commandCalls(StopExecutionCommand).map((c) => c.args[0].input)).toEqual([{ executionArn: older.arn, cause: `superseded by ${newer.name}` }]);
    expect(sfn.commandCalls(StartExecutionCommand)).toEqual([]);
  });

  it('skips an execution that finished between the listing and its description', async () => {
    // Prepare
    const finished = execution(aBuildRequest({ deliveryId: 'd-finished' }));
    sfn.on(DescribeExecutionCommand, { executionArn: finished.arn }).resolves({ status: 'SUCCEEDED', input: '{}' });
    sfn.on(ListExecutionsCommand).resolves({ executions: [finished.listed] });

    // Act
    const running = await new SfnRunningBuilds(new SFNClient({ region: 'eu-west-1' }), STATE_MACHINE).findRunning('acme/api', 'main');

    // Assess
    expect(running).toEqual([]);
  });
});
