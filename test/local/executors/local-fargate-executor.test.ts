import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { RUN_TASK_FAILURES, SPOT_INTERRUPTION } from '../../../functions/domain/fargate/run-task-errors.js';
import { taskOf } from '../../../functions/handlers/fargate-result.js';
import { causeMessage } from '../../../functions/handlers/stage-records.js';
import { LocalFargateExecutor } from '../../../functions/local/executors/local-fargate-executor.js';
import type { RunTaskParameters } from '../../../functions/local/state-machine-runner.js';
import { MemoryStore } from '../../statemachine/support/memory-store.js';

const PARAMETERS = (provider: 'FARGATE' | 'FARGATE_SPOT'): RunTaskParameters => ({
  Cluster: 'local',
  TaskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/buildfarm-x:1',
  CapacityProviderStrategy: [{ CapacityProvider: provider, Weight: 1 }],
  NetworkConfiguration: { AwsvpcConfiguration: { Subnets: [], SecurityGroups: [], AssignPublicIp: 'DISABLED' } },
  Overrides: { Cpu: '1024', Memory: '2048', ContainerOverrides: [] },
  PropagateTags: 'TASK_DEFINITION',
  StartedBy: 'buildfarm-b',
});

function executor(simulate: 'noCapacity' | 'spotInterruption') {
  return new LocalFargateExecutor({
    store: new MemoryStore(),
    s3: new S3Client({ region: 'us-east-1' }),
    bucket: 'b',
    secrets: { resolve: async () => '' },
    region: 'us-east-1',
    workRoot: '/nonexistent',
    helperCode: async () => Buffer.from(''),
    simulate: () => simulate,
  });
}

describe('Class: LocalFargateExecutor', () => {
  describe('Method: runTask (simulated Fargate conditions)', () => {
    it('fails a RunTask without capacity as the .sync integration does: AmazonECS.Unknown with the Failures', async () => {
      // Act
      const error = await executor('noCapacity').runTask(PARAMETERS('FARGATE'), process.stdout).catch((e: Error) => e);

      // Assess
      expect((error as Error).name).toBe(RUN_TASK_FAILURES);
      expect(causeMessage({ Error: (error as Error).name, Cause: (error as Error).message })).toContain('Capacity is unavailable');
    });

    it('stops an interrupted Spot task with StopCode SpotInterruption, as States.TaskFailed with the task JSON', async () => {
      // Act
      const error = (await executor('spotInterruption').runTask(PARAMETERS('FARGATE_SPOT'), process.stdout).catch((e: Error) => e)) as Error;

      // Assess
      expect(error.name).toBe('States.TaskFailed');
      expect(taskOf({ task: null, taskFailure: { Error: error.name, Cause: error.message } })?.StopCode).toBe(SPOT_INTERRUPTION);
    });
  });
});
