import { grantRecordKey } from '../../functions/domain/credentials/grant.js';
import { grantTokenHash } from '../../functions/handlers/stage-credentials-core.js';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../functions/domain/plan/types.js';
import { historyKey, reportKey } from '../../functions/domain/storage-keys.js';
import type { BuildReport, StageReport } from '../../functions/domain/report/types.js';
import { attributeUsd } from '../../functions/domain/report/notification.js';
import { prepareFargateTask } from '../../functions/handlers/fargate-prepare.js';
import { BuildAborted, runBuildLocally } from '../../functions/local/state-machine-runner.js';

/** The key the report recorded a stage's history under: `history/{repo}/{stage}/{definition hash}.json`. */
function recordedHistoryKey(objects: { keys(): Iterable<string> }, repository: string, stage: string): string {
  const prefix = historyKey(repository, stage).replace(/\.json$/, '/');
  return [...objects.keys()].find((key) => key.startsWith(prefix)) ?? `${prefix}(none)`;
}
import { BUILD_ID, createFarm, NamedError, REQUEST, type Farm, type ScenarioStage } from './support/farm.js';

async function run(farm: Farm, request = REQUEST) {
  const result = await runBuildLocally({ buildId: BUILD_ID, request }, farm.bindings);
  const report = farm.store.json<BuildReport>(reportKey(BUILD_ID));
  if (!report) throw new Error('no report.json was written');
  const stage = (name: string): StageReport => {
    const found = report.stages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage ${name} in the report`);
    return found;
  };
  return { result, report, stage };
}

describe('State machine: build.asl.json through aws-local-stepfunctions', () => {
  it('all on Lambda: runs every stage on the Lambda runner and reports success', async () => {
    // Prepare
    const stages: Record<string, ScenarioStage> = {
      compile: { runner: 'lambda', lambda: { kind: 'succeed', durationMs: 1234.4 } },
      lint: { runner: 'lambda' },
      test: { runner: 'lambda', needs: ['compile'] },
    };
    const farm = createFarm(stages);

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(result.output).toEqual({ status: 'succeeded', totalCostUsd: report.totalCostUsd, reportKey: reportKey(BUILD_ID) });
    expect(farm.lambdaCalls.sort()).toEqual(['compile', 'lint', 'test']);
    expect(farm.fargateCalls).toEqual([]);
    expect(report.stages.map((s) => [s.name, s.status, s.runner])).toEqual([
      ['compile', 'succeeded', 'lambda'],
      ['lint', 'succeeded', 'lambda'],
      ['test', 'succeeded', 'lambda'],
    ]);
    expect(stage('compile').billedDurationMs).toBe(1235);
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
    expect(farm.notifier.messages).toHaveLength(1);
    // SNS filter policies compare five decimals, so the attribute is the cost rounded to five
    expect(farm.notifier.messages[0]!.attributes).toEqual({ repository: 'octo/app', branch: 'main', status: 'succeeded', costUsd: attributeUsd(report.totalCostUsd) });
    expect(Math.abs((farm.notifier.messages[0]!.attributes.costUsd as number) - report.totalCostUsd)).toBeLessThanOrEqual(0.000005);
  });

  it('hands the Report task the execution id ($$.Execution.Id), which the report links to', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' } });

    // Act
    await run(farm);

    // Assess: the local runner's execution id is local:{buildId}; on AWS it is the execution ARN
    const message = JSON.parse(farm.notifier.messages[0]!.message) as { link: string; buildId: string };
    expect(message.buildId).toBe(BUILD_ID);
    expect(message.link).toBe(`https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/local:${BUILD_ID}`);
    expect(await farm.store.getText(`builds/${BUILD_ID}/report.txt`)).toContain(message.link);
  });
});

describe('State machine: routing and recovery', () => {
  it('mixed: routes each stage by the plan and bills Fargate from PullStartedAt to StoppedAt', async () => {
    // Prepare
    const farm = createFarm({
      compile: { runner: 'lambda' },
      image: { runner: 'fargate', needs: ['compile'], fargate: { kind: 'succeed', billedSpanMs: 61_200, durationMs: 50_000 } },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(report.status).toBe('succeeded');
    expect(farm.lambdaCalls).toEqual(['compile']);
    expect(farm.fargateCalls).toEqual(['image@FARGATE']);
    expect(stage('image')).toMatchObject({ runner: 'fargate', status: 'succeeded', billedDurationMs: 62_000, durationMs: 50_000 });
    expect(stage('image').fargate).toMatchObject({ cpu: 1024, memory: 2048, spot: false });
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
  });

  it('Lambda escalated to Fargate: a StageTimeout from the Lambda runner reruns the stage on Fargate once', async () => {
    // Prepare
    const farm = createFarm({
      slow: { runner: 'lambda', lambda: { kind: 'throw', name: 'StageTimeout', message: 'stage ran out of time after 900 s' } },
      after: { runner: 'lambda', needs: ['slow'] },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(farm.lambdaCalls).toEqual(['slow', 'after']);
    expect(farm.fargateCalls).toEqual(['slow@FARGATE']);
    expect(farm.prepareCalls[0]!.escalation).toEqual({
      Error: 'StageTimeout',
      Cause: JSON.stringify({ errorType: 'StageTimeout', errorMessage: 'stage ran out of time after 900 s' }),
    });
    expect(stage('slow')).toMatchObject({ status: 'succeeded', runner: 'fargate', escalated: true });
    expect(stage('slow').reason).toContain('escalated from Lambda after StageTimeout: stage ran out of time after 900 s');
    expect(stage('after').status).toBe('succeeded');
    expect(report.status).toBe('succeeded');
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
  });

  it('a failing stage: its dependents are skipped, independent stages run, and the report is still produced', async () => {
    // Prepare
    const farm = createFarm({
      compile: { runner: 'lambda', lambda: { kind: 'fail', exitCode: 2, durationMs: 800 } },
      docs: { runner: 'lambda' },
      test: { runner: 'lambda', needs: ['compile'] },
      package: { runner: 'fargate', needs: ['test', 'docs'] },
      site: { runner: 'lambda', needs: ['docs'] },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(result.output.status).toBe('failed');
    expect(report.status).toBe('failed');
    expect(stage('compile')).toMatchObject({ status: 'failed', exitCode: 2, errorName: 'CommandFailed' });
    expect(stage('test')).toMatchObject({ status: 'skipped', reason: 'needs compile failed', costUsd: 0 });
    expect(stage('package')).toMatchObject({ status: 'skipped', reason: 'needs test was skipped' });
    expect(stage('site').status).toBe('succeeded');
    expect(farm.lambdaCalls.sort()).toEqual(['compile', 'docs', 'site']);
    const summary = (await farm.store.getText(`builds/${BUILD_ID}/report.txt`))!;
    expect(summary.split('\n')[0]).toMatch(/^octo\/app main: failed .*· 2\/5 stages passed — failed: compile$/);
    expect(summary).toMatch(/^test: needs compile failed$/m);
    expect(farm.fargateCalls).toEqual([]);
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
  });

  it('fail-fast: after a failure every later stage is skipped, dependent or not', async () => {
    // Prepare
    const farm = createFarm(
      {
        compile: { runner: 'lambda', lambda: { kind: 'fail', exitCode: 1, durationMs: 100 } },
        docs: { runner: 'lambda' },
        site: { runner: 'lambda', needs: ['docs'] },
      },
      { failFast: true },
    );

    // Act
    const { stage } = await run(farm);

    // Assess
    expect(stage('docs').status).toBe('succeeded');
    expect(stage('site')).toMatchObject({ status: 'skipped', reason: 'fail-fast: compile failed' });
  });

  it('an invalid pipeline file ends in a report with the error', async () => {
    // Prepare
    const farm = createFarm({}, { pipelineText: 'version: 1\non:\n  push: {}\nstages:\n  test:\n    needs: [biuld]\n    commands: [make test]\n' });

    // Act
    const { result, report } = await run(farm);

    // Assess
    expect(result.output.status).toBe('error');
    expect(report.error).toEqual({
      name: 'PipelineInvalid',
      message: '.buildfarm.yml:6:13 stages.test.needs[0]: stage "test" needs "biuld", which is not a stage; known stages: test',
    });
    expect(report.stages).toEqual([]);
    expect(result.statesEntered).toEqual(['Plan', 'Report']);
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
    expect(farm.notifier.messages[0]!.attributes.status).toBe('error');
  });

  it('stage history: the report records each stage and the next build plans with it', async () => {
    // Prepare
    const stages: Record<string, ScenarioStage> = {
      slow: { runner: 'auto', lambda: { kind: 'throw', name: 'StageTimeout', message: 'out of time' } },
      quick: { runner: 'auto', lambda: { kind: 'succeed', durationMs: 1500 } },
    };
    const first = createFarm(stages);
    await run(first);
    const firstPlan = first.store.json<Plan>(`builds/${BUILD_ID}/plan.json`)!;
    const quickHistory = first.store.json(recordedHistoryKey(first.store.objects, REQUEST.repository, 'quick'));
    const slowHistory = first.store.json(recordedHistoryKey(first.store.objects, REQUEST.repository, 'slow'));
    const second = createFarm(stages, { store: first.store });

    // Act
    await run(second);

    // Assess
    const secondPlan = second.store.json<Plan>(`builds/${BUILD_ID}/plan.json`)!;
    const planned = (plan: Plan, name: string) => plan.stages.find((s) => s.name === name)!;
    expect(quickHistory).toEqual({ durationsMs: [1500], peakMemoryMiB: 100, peakDiskMiB: 10, escalated: false });
    expect(slowHistory).toMatchObject({ escalated: true });
    expect(planned(firstPlan, 'quick').predictedFrom).toBe('timeout');
    expect(planned(secondPlan, 'quick').predictedFrom).toBe('history');
    expect(planned(firstPlan, 'slow').runner).toBe('lambda');
    expect(planned(secondPlan, 'slow').runner).toBe('fargate');
  });

  it('a pull request from a fork: every runner is told, so no stage gets secrets', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' }, image: { runner: 'fargate', needs: ['compile'] } });
    const fork = { ...REQUEST, event: 'pull_request' as const, fromFork: true, pullRequest: 7, baseBranch: 'main', branch: 'feature' };

    // Act
    await run(farm, fork);

    // Assess
    expect(farm.lambdaEvents).toEqual([{ buildId: BUILD_ID, stageName: 'compile', planKey: `builds/${BUILD_ID}/plan.json`, fromFork: true, grant: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(farm.prepareCalls.map((e) => e.fromFork)).toEqual([true]);
    // Select stages wrote each stage's grant without a single secret (fromFork, no secretsWithheld in the plan).
    const grant = farm.store.json<{ stage: string; secrets: object }>(grantRecordKey(grantTokenHash(farm.lambdaEvents[0]!.grant!)));
    expect(grant).toMatchObject({ stage: 'compile', secrets: {} });
  });

  it('a build the triggers do not want ends in a skipped report without running a stage', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' } });

    // Act
    const { result, report } = await run(farm, { ...REQUEST, message: 'Fix typo [skip ci]' });

    // Assess
    expect(result.output.status).toBe('skipped');
    expect(farm.lambdaCalls).toEqual([]);
    expect(result.statesEntered).toEqual(['Plan', 'Run batches', 'Report']);
    expect(report.costBreakdown.stateTransitions).toBe(3);
  });

  it('an infrastructure error between stages still ends in a report, with the error and the stages not run', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' }, test: { runner: 'lambda', needs: ['compile'] } });
    const schedule = farm.bindings.schedule;
    farm.bindings.schedule = async (input, tokens) => {
      if (input.action === 'releaseDependents') throw new NamedError('S3ServiceUnavailable', 'Please reduce your request rate.');
      return schedule(input, tokens);
    };

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(result.output.status).toBe('error');
    expect(report.error).toEqual({ name: 'S3ServiceUnavailable', message: 'Please reduce your request rate.' });
    expect(stage('compile').status).toBe('succeeded');
    expect(stage('test')).toMatchObject({ status: 'skipped', reason: 'not run: S3ServiceUnavailable' });
    expect(result.statesEntered.at(-1)).toBe('Report');
  });

  it('a Lambda runner crash (any other error) becomes a failed stage result, not a lost build', async () => {
    // Prepare
    const farm = createFarm({
      compile: { runner: 'lambda', lambda: { kind: 'throw', name: 'Runtime.ExitError', message: 'RequestId: 1 Error: Runtime exited with error: signal: killed' } },
      test: { runner: 'lambda', needs: ['compile'] },
    });

    // Act
    const { report, stage } = await run(farm);

    // Assess
    expect(report.status).toBe('failed');
    expect(stage('compile')).toMatchObject({ status: 'failed', runner: 'lambda', errorName: 'Runtime.ExitError', exitCode: null });
    expect(stage('compile').reason).toBe('Runtime.ExitError: RequestId: 1 Error: Runtime exited with error: signal: killed');
    expect(stage('test').status).toBe('skipped');
  });
});

describe('State machine: the Fargate path (issue 4)', () => {
  it('sends fargate-prepare the stage and RunTask the exact PascalCase request', async () => {
    // Prepare
    const farm = createFarm({ image: { runner: 'fargate', spot: true } });

    // Act
    await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, {
      substitutions: { SubnetIds: 'subnet-a,subnet-b', SecurityGroupIds: 'sg-1', AssignPublicIp: 'ENABLED' },
    });

    // Assess
    expect(farm.prepareCalls).toEqual([
      {
        buildId: BUILD_ID,
        stageName: 'image',
        planKey: `builds/${BUILD_ID}/plan.json`,
        escalation: null,
        fromFork: false,
        grant: expect.stringMatching(/^[0-9a-f]{64}$/),
      },
    ]);
    expect(farm.runTaskCalls).toEqual([
      {
        Cluster: 'arn:aws:ecs:us-east-1:000000000000:cluster/buildfarm-local',
        TaskDefinition: 'arn:aws:ecs:us-east-1:000000000000:task-definition/buildfarm-abc:1',
        CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
        NetworkConfiguration: { AwsvpcConfiguration: { Subnets: ['subnet-a', 'subnet-b'], SecurityGroups: ['sg-1'], AssignPublicIp: 'ENABLED' } },
        Overrides: { Cpu: '1024', Memory: '2048', ContainerOverrides: [{ Name: 'fetch', Environment: [{ Name: 'BUILDFARM_STAGE', Value: 'image' }] }] },
        PropagateTags: 'TASK_DEFINITION',
        StartedBy: `buildfarm-${BUILD_ID}`,
      },
    ]);
  });

  it('Fargate capacity retry: RunTask Failures (AmazonECS.Unknown) are retried and the stage then runs', async () => {
    // Prepare
    const farm = createFarm({
      image: { runner: 'fargate', fargate: { kind: 'noCapacity', provider: 'FARGATE', times: 2, then: { kind: 'succeed', billedSpanMs: 30_000, durationMs: 25_000 } } },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(farm.fargateCalls).toEqual(['image@FARGATE', 'image@FARGATE', 'image@FARGATE']);
    expect(stage('image')).toMatchObject({ status: 'succeeded', runner: 'fargate', billedDurationMs: 60_000 });
    expect(report.status).toBe('succeeded');
    // The two retries are transitions AWS bills; the records cannot see them.
    expect(result.stateTransitions).toBe(report.costBreakdown.stateTransitions + 2);
  });

  it('capacity errors that outlast the retries on on-demand Fargate fail the stage with the error', async () => {
    // Prepare
    const farm = createFarm({
      image: { runner: 'fargate', fargate: { kind: 'noCapacity', provider: 'FARGATE', times: Infinity, then: { kind: 'succeed', billedSpanMs: 1, durationMs: 1 } } },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess: never started, so nothing billed for it
    expect(farm.fargateCalls).toHaveLength(5);
    expect(stage('image')).toMatchObject({ status: 'failed', errorName: 'AmazonECS.Unknown', billedDurationMs: 0, costUsd: 0 });
    expect(result.stateTransitions).toBe(report.costBreakdown.stateTransitions + 4);
    expect(stage('image').reason).toContain('on FARGATE: Capacity is unavailable');
  });

  it('a failing fargate-prepare becomes a failed stage result and the build goes on to its report', async () => {
    // Prepare
    const farm = createFarm({ image: { runner: 'fargate' }, docs: { runner: 'lambda' } });
    farm.bindings.prepareFargate = async () => {
      throw new NamedError('OverridesTooLarge', 'RunTask overrides are 9000 characters, above the 8192 limit');
    };

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(report.status).toBe('failed');
    expect(stage('image')).toMatchObject({ status: 'failed', errorName: 'OverridesTooLarge', billedDurationMs: 0, costUsd: 0 });
    expect(stage('image').reason).toBe('OverridesTooLarge: RunTask overrides are 9000 characters, above the 8192 limit');
    expect(stage('docs').status).toBe('succeeded');
    expect(farm.fargateCalls).toEqual([]);
    expect(result.stateTransitions).toBe(report.costBreakdown.stateTransitions);
  });

  it('the real fargate-prepare task: its output feeds RunTask as the integration takes it', async () => {
    // Prepare: the prepare core with its AWS calls replaced (task definitions, helper bundle)
    const farm = createFarm({ image: { runner: 'fargate' } });
    farm.bindings.prepareFargate = (event) =>
      prepareFargateTask(event, {
        store: farm.store,
        taskDefinitions: { ensure: async () => ({ taskDefinitionArn: 'arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-x86-0123abcd:3', family: 'buildfarm-x86-0123abcd', revision: 3, registered: false }) },
        helperBundles: { ensure: async () => undefined },
        settings: { region: 'us-east-1', bucket: 'b', executionRoleArn: 'arn:aws:iam::123456789012:role/exec', taskRoleArn: 'arn:aws:iam::123456789012:role/task', logGroup: '/buildfarm/tasks', helperImage: 'node:22', stageCredentialsFunction: 'stage-credentials' },
        helperCode: async () => Buffer.from('helper'),
      });

    // Act
    const { stage } = await run(farm);

    // Assess
    const request = farm.runTaskCalls[0]!;
    expect(request.TaskDefinition).toBe('arn:aws:ecs:us-east-1:123456789012:task-definition/buildfarm-x86-0123abcd:3');
    expect(request.CapacityProviderStrategy).toEqual([{ CapacityProvider: 'FARGATE', Weight: 1 }]);
    expect(request.Overrides).toMatchObject({ Cpu: '1024', Memory: '2048' });
    expect(request.Overrides.ContainerOverrides.map((c) => c.Name)).toEqual(['fetch', 'build', 'live-log', 'publish']);
    expect(stage('image').status).toBe('succeeded');
  });

  it('TaskFailed becomes a stage result: the build container exit code and StoppedReason are kept', async () => {
    // Prepare
    const farm = createFarm({
      image: { runner: 'fargate', fargate: { kind: 'taskFailed', exitCode: 3, spanMs: 95_500, stoppedReason: 'Essential container in task exited' } },
      deploy: { runner: 'lambda', needs: ['image'] },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(result.output.status).toBe('failed');
    expect(stage('image')).toMatchObject({
      status: 'failed',
      runner: 'fargate',
      exitCode: 3,
      errorName: 'CommandFailed',
      billedDurationMs: 96_000,
      durationMs: 90_500,
    });
    expect(stage('image').reason).toBe('Essential container in task exited; build container exited with 3');
    expect(stage('deploy')).toMatchObject({ status: 'skipped', reason: 'needs image failed' });
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
  });

  it('Spot falls back to on-demand: capacity errors on FARGATE_SPOT rerun the task on FARGATE', async () => {
    // Prepare
    const farm = createFarm({
      image: {
        runner: 'fargate',
        spot: true,
        fargate: { kind: 'noCapacity', provider: 'FARGATE_SPOT', times: Infinity, then: { kind: 'succeed', billedSpanMs: 120_000, durationMs: 110_000 } },
      },
    });

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(farm.fargateCalls).toEqual([...Array(5).fill('image@FARGATE_SPOT'), 'image@FARGATE']);
    expect(stage('image')).toMatchObject({ status: 'succeeded', runner: 'fargate', billedDurationMs: 120_000 });
    expect(stage('image').fargate?.spot).toBe(false);
    expect(stage('image').reason).toContain('ran on on-demand Fargate');
    expect(result.statesEntered).toContain('Fall back to on-demand');
    expect(result.stateTransitions).toBe(report.costBreakdown.stateTransitions + 4);
  });

  it('a Spot stage with capacity runs on FARGATE_SPOT and is billed at the Spot price', async () => {
    // Prepare
    const farm = createFarm({ image: { runner: 'fargate', spot: true } });

    // Act
    const { stage } = await run(farm);

    // Assess
    expect(farm.fargateCalls).toEqual(['image@FARGATE_SPOT']);
    expect(stage('image').fargate?.spot).toBe(true);
  });
});

describe('Function: runBuildLocally', () => {
  it('reports each stage state as it is entered and left, for progress display', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' }, image: { runner: 'fargate', needs: ['compile'] } });
    const seen: string[] = [];

    // Act
    await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, {
      onStageState: (e) => {
        if (e.type === 'StateEntered') seen.push(`${e.stage}: ${e.state}`);
      },
    });

    // Assess: one batch; image waits for compile, which releases it (the order of the two
    // iterations' states interleaves, each iteration's own order is fixed)
    const of = (name: string) => seen.filter((line) => line.startsWith(`${name}: `));
    expect(of('compile')).toEqual(['compile: Choose runner', 'compile: Run on Lambda, then release', 'compile: Release dependents']);
    expect(of('image')).toEqual([
      'image: Choose runner',
      'image: Wait, then prepare Fargate',
      'image: Prepare Fargate task',
      'image: Run Fargate task',
      'image: Record Fargate result',
      'image: Interrupted on Spot?',
      'image: Stage recorded',
    ]);
    expect(seen.indexOf('image: Prepare Fargate task')).toBeGreaterThan(seen.indexOf('compile: Release dependents'));
  });

  it('stops the execution when its signal aborts', async () => {
    // Prepare
    const farm = createFarm({ compile: { runner: 'lambda' }, test: { runner: 'lambda', needs: ['compile'] } });
    const controller = new AbortController();
    const runLambdaStage = farm.bindings.runLambdaStage;
    farm.bindings.runLambdaStage = async (event, fn) => {
      controller.abort();
      return runLambdaStage(event, fn);
    };

    // Act
    const running = runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, { signal: controller.signal });

    // Assess
    await expect(running).rejects.toThrow(BuildAborted);
    expect(farm.lambdaCalls).toEqual(['compile']);
  });
});
