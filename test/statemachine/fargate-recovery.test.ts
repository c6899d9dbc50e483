/**
 * The Fargate path's recovery through the real build.asl.json (aws-local-stepfunctions), with
 * the error names the `ecs:runTask.sync` integration really raises (domain/fargate/run-task-errors.ts).
 */
import { describe, expect, it } from 'vitest';
import { reportKey } from '../../functions/domain/storage-keys.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import type { StageRunRecord } from '../../functions/domain/report/run-record.js';
import { runBuildLocally } from '../../functions/local/state-machine-runner.js';
import { BUILD_ID, createFarm, REQUEST, type ScenarioStage } from './support/farm.js';

async function run(stages: Record<string, ScenarioStage>) {
  const farm = createFarm(stages);
  const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings);
  const report = farm.store.json<BuildReport>(reportKey(BUILD_ID))!;
  return { farm, result, report, stage: (name: string) => report.stages.find((s) => s.name === name)! };
}

describe('State machine: RunTask errors under their real names', () => {
  for (const errorName of ['AmazonECS.Unknown', 'ECS.AmazonECSException', 'ECS.ServerException']) {
    it(`retries ${errorName} with backoff before giving up on the provider`, async () => {
      // Act
      const { farm, stage } = await run({
        image: { runner: 'fargate', fargate: { kind: 'noCapacity', provider: 'FARGATE', times: 3, errorName, then: { kind: 'succeed', billedSpanMs: 60_000, durationMs: 50_000 } } },
      });

      // Assess
      expect(farm.fargateCalls).toEqual(Array(4).fill('image@FARGATE'));
      expect(stage('image').status).toBe('succeeded');
    });
  }
});

describe('State machine: a Spot interruption', () => {
  it('reruns the stage once on on-demand Fargate, and bills both tasks', async () => {
    // Act
    const { farm, result, report, stage } = await run({
      image: { runner: 'fargate', spot: true, fargate: { kind: 'spotInterrupted', spanMs: 300_000, then: { kind: 'succeed', billedSpanMs: 120_000, durationMs: 110_000 } } },
      deploy: { runner: 'lambda', needs: ['image'] },
    });

    // Assess
    expect(farm.fargateCalls).toEqual(['image@FARGATE_SPOT', 'image@FARGATE']);
    expect(stage('image')).toMatchObject({ status: 'succeeded', runner: 'fargate', billedDurationMs: 420_000 });
    expect(stage('image').fargate?.spot).toBe(false);
    expect(stage('image').reason).toContain('Fargate Spot interrupted the task');
    expect(stage('deploy').status).toBe('succeeded');
    expect(result.statesEntered).toContain('Clear the interrupted task');
    const runRecord = farm.store.json<StageRunRecord>(`builds/${BUILD_ID}/stages/image/run.json`);
    expect(runRecord?.fargate?.spotInterruption).toMatchObject({ taskArn: expect.stringContaining('image-spot') });
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
  });

  it('the on-demand rerun keeps the iteration output to the stage line', async () => {
    // Act
    const { farm, stage } = await run({
      image: { runner: 'fargate', spot: true, fargate: { kind: 'spotInterrupted', spanMs: 10_000, then: { kind: 'taskFailed', exitCode: 2, spanMs: 30_000, stoppedReason: 'Essential container in task exited' } } },
    });

    // Assess: the on-demand run's failure is the stage's result, not the interruption
    expect(farm.fargateCalls).toEqual(['image@FARGATE_SPOT', 'image@FARGATE']);
    expect(stage('image')).toMatchObject({ status: 'failed', exitCode: 2, errorName: 'CommandFailed' });
  });
});
