import { describe, expect, it } from 'vitest';
import type { StageRunRecord } from '../../functions/domain/report/run-record.js';
import type { StageResult } from '../../functions/domain/report/types.js';
import type { SlimStage } from '../../functions/handlers/build-state-machine.js';
import { recordFargateResultTask, taskOf } from '../../functions/handlers/fargate-result.js';
import { recordStageErrorTask } from '../../functions/handlers/schedule.js';
import { causeMessage } from '../../functions/handlers/stage-records.js';
import { liveGrant } from '../../functions/handlers/stage-credentials-core.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';
import { writeGrant } from '../support/stage-grants.js';

const STAGE: SlimStage = {
  name: 'image',
  runner: 'fargate',
  fargate: { cpu: 1024, memory: 2048, ephemeralStorageGiB: 20, architecture: 'x86_64', spot: false },
};
const deps = (store: MemoryStore) => ({ store, now: () => new Date('2026-11-22T10:00:00.000Z') });

describe('Function: causeMessage', () => {
  it('reads the message of a Lambda function error, an ECS task, or plain text', () => {
    expect(causeMessage({ Error: 'CommandFailed', Cause: JSON.stringify({ errorType: 'CommandFailed', errorMessage: 'make exited with 2', trace: [] }) })).toBe('make exited with 2');
    expect(causeMessage({ Error: 'States.TaskFailed', Cause: JSON.stringify({ StoppedReason: 'Essential container in task exited' }) })).toBe('Essential container in task exited');
    expect(causeMessage({ Error: 'States.Timeout', Cause: 'timed out' })).toBe('timed out');
    expect(causeMessage({ Error: 'X' })).toBe('');
  });
});

describe('Function: taskOf', () => {
  it('takes the task from the .sync output or from the Cause of States.TaskFailed', () => {
    expect(taskOf({ task: { TaskArn: 'a' }, taskFailure: null })).toEqual({ TaskArn: 'a' });
    expect(taskOf({ task: null, taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify({ TaskArn: 'b', StopCode: 'EssentialContainerExited' }) } })).toEqual({ TaskArn: 'b', StopCode: 'EssentialContainerExited' });
  });

  it('finds no task in a Cause that is not one (States.TaskFailed catches every error name)', () => {
    expect(taskOf({ task: null, taskFailure: { Error: 'ECS.AccessDeniedException', Cause: 'not authorized to perform ecs:RunTask' } })).toBeUndefined();
  });
});

describe('Function: recordFargateResultTask', () => {
  it('keeps the result the publish container wrote and records the billing timestamps', async () => {
    // Prepare
    const store = new MemoryStore();
    const published = { buildId: 'b', stage: 'image', status: 'failed', runner: 'fargate', exitCode: 1 } as StageResult;
    await store.put('builds/b/stages/image/result.json', JSON.stringify(published));

    // Act
    const summary = await recordFargateResultTask(
      {
        action: 'recordFargateResult',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: STAGE,
        capacityProvider: 'FARGATE',
        escalation: null,
        task: null,
        taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify({ TaskArn: 't', PullStartedAt: 1000, StoppedAt: 71000, Containers: [{ Name: 'build', ExitCode: 1 }] }) },
        spotInterruption: null,
      },
      deps(store),
    );

    // Assess
    expect(summary).toEqual({ stage: 'image', status: 'failed', rerun: null });
    expect(store.json('builds/b/stages/image/result.json')).toEqual(published);
    expect(store.json<StageRunRecord>('builds/b/stages/image/run.json')?.fargate).toEqual({
      taskArn: 't',
      capacityProvider: 'FARGATE',
      spotFallback: false,
      pullStartedAt: 1000,
      stoppedAt: 71000,
      buildExitCode: 1,
    });
  });

  it('records an error that is not a task as a failed stage, billed nothing', async () => {
    // Prepare
    const store = new MemoryStore();

    // Act
    await recordFargateResultTask(
      {
        action: 'recordFargateResult',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: STAGE,
        capacityProvider: 'FARGATE',
        escalation: null,
        task: null,
        taskFailure: { Error: 'ECS.AccessDeniedException', Cause: 'not authorized to perform ecs:RunTask' },
        spotInterruption: null,
      },
      deps(store),
    );

    // Assess
    expect(store.json<StageResult>('builds/b/stages/image/result.json')).toMatchObject({
      status: 'failed',
      exitCode: null,
      errorName: 'ECS.AccessDeniedException',
      reason: 'ECS.AccessDeniedException: not authorized to perform ecs:RunTask',
    });
    expect(store.json<StageRunRecord>('builds/b/stages/image/run.json')?.fargate?.pullStartedAt).toBeUndefined();
  });
});

describe('Function: recordFargateResultTask, for a Spot task Fargate interrupted', () => {
  it('keeps the stage’s grant alive for the on-demand rerun, although the interrupted publish wrote a result', async () => {
    // Prepare: the grant Select stages minted, and the result the interrupted task's publish wrote
    const store = new MemoryStore();
    const now = Date.parse('2026-11-22T10:00:00.000Z');
    const token = await writeGrant(store, 'b', { name: 'image', secrets: {} }, { now });
    await store.put('builds/b/stages/image/result.json', JSON.stringify({ buildId: 'b', stage: 'image', status: 'failed', runner: 'fargate', exitCode: 143, errorName: 'CommandFailed' }));
    await expect(liveGrant(token, { store, now: () => now })).rejects.toMatchObject({ name: 'GrantRevoked' });

    // Act
    const summary = await recordFargateResultTask(
      {
        action: 'recordFargateResult',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: { ...STAGE, fargate: { ...STAGE.fargate, spot: true } },
        capacityProvider: 'FARGATE_SPOT',
        escalation: null,
        task: null,
        taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify({ TaskArn: 't', StopCode: 'SpotInterruption', PullStartedAt: 1000, StoppedAt: 9000 }) },
        spotInterruption: null,
      },
      deps(store),
    );

    // Assess: a rerun, and the helpers of the on-demand task can still trade the grant
    expect(summary.rerun).not.toBeNull();
    await expect(liveGrant(token, { store, now: () => now })).resolves.toMatchObject({ stage: 'image' });
    expect(store.json<StageResult>('builds/b/stages/image/result.json')).toMatchObject({ errorName: 'SpotInterruption', runner: 'fargate' });
  });
});

describe('Function: recordStageErrorTask', () => {
  it('keeps the record the agent wrote for its own failure', async () => {
    // Prepare
    const store = new MemoryStore();
    const agentRecord = { buildId: 'b', stage: 'unit', status: 'failed', runner: 'lambda', exitCode: 2, errorName: 'CommandFailed' } as StageResult;
    await store.put('builds/b/stages/unit/result.json', JSON.stringify(agentRecord));

    // Act
    const summary = await recordStageErrorTask(
      {
        action: 'recordStageError',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: { ...STAGE, name: 'unit', runner: 'lambda', lambdaFunction: 'runner' },
        fargate: null,
        escalation: null,
        error: { Error: 'CommandFailed', Cause: JSON.stringify({ errorType: 'CommandFailed', errorMessage: 'npm test exited with 2' }) },
      },
      deps(store),
    );

    // Assess
    expect(summary).toEqual({ stage: 'unit', status: 'failed' });
    expect(store.json('builds/b/stages/unit/result.json')).toEqual(agentRecord);
    expect(store.json('builds/b/stages/unit/run.json')).toEqual({ stage: 'unit', runner: 'lambda', error: { name: 'CommandFailed', at: 'lambda' } });
  });

  it('records a Step Functions timeout as timed out', async () => {
    const store = new MemoryStore();
    const summary = await recordStageErrorTask(
      {
        action: 'recordStageError',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: STAGE,
        fargate: { taskDefinitionArn: 'td', overrides: { Cpu: '1024', Memory: '2048', ContainerOverrides: [] }, capacityProvider: 'FARGATE', family: 'f', timeoutSeconds: 4200 },
        escalation: null,
        error: { Error: 'States.Timeout', Cause: 'The task timed out' },
      },
      deps(store),
    );
    expect(summary).toEqual({ stage: 'image', status: 'timed_out' });
  });

  it('records a Lambda hard timeout (Sandbox.Timedout) as timed out, not failed', async () => {
    // Prepare: Lambda stopped the runner at its configured timeout before the agent could record anything
    const store = new MemoryStore();

    // Act
    const summary = await recordStageErrorTask(
      {
        action: 'recordStageError',
        buildId: 'b',
        planKey: 'builds/b/plan.json',
        stage: { ...STAGE, name: 'unit', runner: 'lambda', lambdaFunction: 'runner' },
        fargate: null,
        escalation: null,
        error: { Error: 'Sandbox.Timedout', Cause: JSON.stringify({ errorMessage: 'RequestId: 1 Error: Task timed out after 900.00 seconds' }) },
      },
      deps(store),
    );

    // Assess
    expect(summary).toEqual({ stage: 'unit', status: 'timed_out' });
    expect(store.json<StageResult>('builds/b/stages/unit/result.json')).toMatchObject({ status: 'timed_out', runner: 'lambda', errorName: 'Sandbox.Timedout' });
  });
});

describe('Function: recordFargateResultTask after a Spot interruption', () => {
  const interrupted = {
    TaskArn: 'spot-task',
    LastStatus: 'STOPPED',
    StopCode: 'SpotInterruption',
    StoppedReason: 'Your Spot Task was interrupted.',
    PullStartedAt: 1000,
    StoppedAt: 301_000,
    Containers: [{ Name: 'build', ExitCode: 143 }],
  };
  const input = (overrides: Partial<Parameters<typeof recordFargateResultTask>[0]>) => ({
    action: 'recordFargateResult' as const,
    buildId: 'b',
    planKey: 'builds/b/plan.json',
    stage: { ...STAGE, fargate: { ...STAGE.fargate, spot: true } },
    capacityProvider: 'FARGATE_SPOT' as const,
    escalation: null,
    task: null,
    taskFailure: null,
    spotInterruption: null,
    ...overrides,
  });

  it('asks for an on-demand rerun, keeping the interrupted task for billing and recording nothing yet', async () => {
    // Prepare: the publish container recorded the killed build before the task stopped
    const store = new MemoryStore();
    await store.put('builds/b/stages/image/result.json', JSON.stringify({ status: 'failed', runner: 'fargate', finishedAt: new Date(300_000).toISOString() }));

    // Act
    const summary = await recordFargateResultTask(input({ taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify(interrupted) } }), deps(store));

    // Assess
    expect(summary.rerun).toEqual({ task: null, taskFailure: null, spotInterruption: { taskArn: 'spot-task', pullStartedAt: 1000, stoppedAt: 301_000, stoppedReason: 'Your Spot Task was interrupted.' } });
    expect(store.json('builds/b/stages/image/run.json')).toBeUndefined();
  });

  it('bills the interrupted task\'s S3 requests (its helpers\' count in the result its publish recorded) and its own to the rerun', async () => {
    // Prepare: the interrupted task's publish counted 6 PUT / 9 GET (its fetch's included)
    const store = new MemoryStore();
    await store.put('builds/b/stages/image/result.json', JSON.stringify({ status: 'failed', runner: 'fargate', finishedAt: new Date(300_000).toISOString(), s3Requests: { put: 6, get: 9 } }));
    let counted = { put: 0, get: 0 };
    const counting = { ...deps(store), s3Requests: () => ({ ...counted }) };
    const reads = store.getText.bind(store);
    store.getText = async (key) => {
      counted = { ...counted, get: counted.get + 1 };
      return reads(key);
    };

    // Act
    const summary = await recordFargateResultTask(input({ taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify(interrupted) } }), counting);

    // Assess: the task's 6 / 9, plus this step's GET of the result and its PUT of the interruption record
    expect(summary.rerun?.spotInterruption.s3Requests).toEqual({ put: 7, get: 10 });
  });

  it('does not rerun an on-demand task, whatever its stop code', async () => {
    const summary = await recordFargateResultTask(input({ capacityProvider: 'FARGATE', task: interrupted }), deps(new MemoryStore()));
    expect(summary.rerun).toBeNull();
  });

  it('records the on-demand run with the interrupted task, ignoring the result the interrupted task published', async () => {
    // Prepare: only the interrupted task published; the on-demand task stopped before publishing
    const store = new MemoryStore();
    await store.put('builds/b/stages/image/result.json', JSON.stringify({ status: 'failed', runner: 'fargate', finishedAt: new Date(300_000).toISOString() }));
    const spotInterruption = { taskArn: 'spot-task', pullStartedAt: 1000, stoppedAt: 301_000 };

    // Act
    const summary = await recordFargateResultTask(
      input({
        capacityProvider: 'FARGATE',
        spotInterruption,
        taskFailure: { Error: 'States.TaskFailed', Cause: JSON.stringify({ TaskArn: 'od', StopCode: 'TaskFailedToStart', StoppedReason: 'CannotPullContainerError', PullStartedAt: 400_000, StoppedAt: 420_000 }) },
      }),
      deps(store),
    );

    // Assess
    expect(summary).toEqual({ stage: 'image', status: 'failed', rerun: null });
    expect(store.json<StageResult>('builds/b/stages/image/result.json')).toMatchObject({ errorName: 'TaskFailedToStart', reason: 'CannotPullContainerError' });
    expect(store.json<StageRunRecord>('builds/b/stages/image/run.json')?.fargate).toMatchObject({ taskArn: 'od', capacityProvider: 'FARGATE', spotInterruption });
  });
});
