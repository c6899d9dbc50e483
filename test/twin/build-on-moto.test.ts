/**
 * The twin tier: statemachines/build.asl.json as it ships, executed by a second Step Functions
 * engine (moto's, derived from LocalStack's) with the real handler code behind lambda:invoke, the
 * local Fargate executor behind ecs:runTask.sync, and moto's S3, SNS, ECS and Step Functions behind
 * the real adapters. One moto_server for the file; see test/support/twin/README.md.
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { aBuildRequest } from '../support/build-requests.js';
import { exampleRepo } from '../support/twin/example-repo.js';
import { buildOnLocalFarm, stageOutcomes } from '../support/twin/local-farm-build.js';
import { motoUnavailableReason } from '../support/twin/moto-server.js';
import { startTwin, TWIN_REGION, type Twin, type TwinBuild } from '../support/twin/twin.js';
import type { CaughtError } from '../../functions/handlers/build-state-machine.js';
import { causeMessage } from '../../functions/handlers/stage-records.js';
import { largestStatePayload, STATE_PAYLOAD_LIMIT_BYTES } from '../support/twin/history-payloads.js';

const unavailable = motoUnavailableReason();
if (unavailable) {
  console.warn(`\n*** TWIN TIER SKIPPED: ${unavailable}.\n*** The state machine was NOT run on moto's Step Functions engine. Install python3 and 'moto[server]==5.2.1' (.ci/run does).\n`);
}

const REPOSITORY = 'octo-org/hello-farm';
const ESCALATING_PIPELINE = `version: 1
on:
  push: {}
stages:
  slow:
    resources: { cpu: 0.5, memory: 512MB }
    commands:
      - sleep 8
      - echo finished
`;

/** Waves would be [a, b], [c], [d]: c and d would wait for the slow b. */
const UNEVEN_PIPELINE = `version: 1
on:
  push: {}
stages:
  a:
    commands: [sleep 1]
  b:
    commands: [sleep 8]
  c:
    needs: [a]
    commands: [sleep 1]
  d:
    needs: [c]
    commands: [sleep 1]
`;

describe.skipIf(unavailable !== undefined)('the build state machine on moto\'s Step Functions engine', () => {
  let twin: Twin;
  let passing: { build: TwinBuild; local: Awaited<ReturnType<typeof buildOnLocalFarm>> };
  let failing: TwinBuild;
  let escalating: TwinBuild;
  let uneven: TwinBuild;

  beforeAll(async () => {
    const repo = await exampleRepo();
    // A second commit whose test script fails, built as a repository of its own (its own stage history).
    await writeFile(join(repo.path, 'scripts', 'test.sh'), '#!/bin/sh\nset -eu\necho "a check failed"\nexit 3\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.path, encoding: 'utf8' }).trim();
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'break the test');
    const brokenSha = git('rev-parse', 'HEAD');
    // A third: one small stage on the 1024 MB runner, which the twin gives 15 s, 5 s past the
    // runner's safety margin (room for StageCredentials and the workspace on a loaded machine):
    // its 8 s command runs out of Lambda time and the stage escalates to Fargate.
    await writeFile(join(repo.path, '.buildfarm.yml'), ESCALATING_PIPELINE);
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'a stage too slow for its Lambda');
    const escalatingSha = git('rev-parse', 'HEAD');
    await writeFile(join(repo.path, '.buildfarm.yml'), UNEVEN_PIPELINE);
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'uneven stages');
    const unevenSha = git('rev-parse', 'HEAD');

    twin = await startTwin({ repositoryPath: repo.path, runnerTimeoutSeconds: { 1024: 15 } });
    const input = { buildId: 'twin-hello-1', request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) };
    const broken = { buildId: 'twin-hello-2', request: aBuildRequest({ repository: `${REPOSITORY}-broken`, sha: brokenSha }) };
    // All at once: the two engines build the same commit (the twin in moto, the local farm in its
    // embedded S3) while moto runs a second execution of the same state machine.
    const slow = { buildId: 'twin-hello-3', request: aBuildRequest({ repository: `${REPOSITORY}-slow`, sha: escalatingSha }) };
    const unevenInput = { buildId: 'twin-hello-4', request: aBuildRequest({ repository: `${REPOSITORY}-uneven`, sha: unevenSha }) };
    const [build, local, broke, escalated, critical] = await Promise.all([
      twin.runBuild(input, { timeoutMs: 240_000 }),
      buildOnLocalFarm(input, repo.path, TWIN_REGION),
      twin.runBuild(broken, { timeoutMs: 240_000 }),
      twin.runBuild(slow, { timeoutMs: 240_000 }),
      twin.runBuild(unevenInput, { timeoutMs: 240_000 }),
    ]);
    passing = { build, local };
    failing = broke;
    escalating = escalated;
    uneven = critical;
  }, 360_000);

  afterAll(async () => {
    await twin?.stop();
  });

  it('runs hello-farm to a succeeded execution and report, through Lambda and Fargate stages', () => {
    const { build } = passing;
    expect(build.execution.status, `${build.execution.error}: ${build.execution.cause}`).toBe('SUCCEEDED');
    expect(JSON.parse(build.execution.output!)).toMatchObject({ status: 'succeeded', reportKey: 'builds/twin-hello-1/report.json' });
    expect(build.report?.status).toBe('succeeded');
    // `$$.Execution.StartTime`, as Step Functions gives it.
    expect(build.report?.startedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(Object.fromEntries(build.report!.stages.map((s) => [s.name, `${s.status} on ${s.runner}`])), JSON.stringify(build.report!.stages.map((s) => [s.name, s.errorName, s.reason]))).toEqual({
      build: 'succeeded on lambda',
      lint: 'succeeded on lambda',
      test: 'succeeded on lambda',
      package: 'succeeded on fargate',
    });
    // Every routed call was answered (a bound function's thrown error is an answer, not a failure).
    expect(twin.router.failures).toEqual([]);
    // The Fargate stage went through ecs:runTask.sync with the plan's capacity provider.
    const packageTask = twin.fargate.runTaskRequests.find((r) => JSON.stringify(r).includes('"value":"twin-hello-1"'));
    expect(packageTask).toMatchObject({ capacityProviderStrategy: [{ capacityProvider: 'FARGATE', weight: 1 }] });
  });

  it('writes the same stage statuses, runners and artifacts to moto\'s S3 as the local farm writes', () => {
    expect(passing.local.report.status).toBe('succeeded');
    expect(stageOutcomes(passing.build.report!)).toEqual(stageOutcomes(passing.local.report));
    expect(passing.build.report!.predictedCostUsd).toBe(passing.local.report.predictedCostUsd);
  });

  it('publishes the report to the BuildReports topic, which delivers it to a subscriber', async () => {
    const delivered = (await twin.reports()).filter((n) => JSON.parse(n.Message).buildId === 'twin-hello-1');
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.TopicArn).toBe(twin.stack.reportsTopicArn);
    expect(JSON.parse(delivered[0]!.Message)).toMatchObject({ buildId: 'twin-hello-1', status: 'succeeded' });
    expect(delivered[0]!.MessageAttributes?.status).toEqual({ Type: 'String', Value: 'succeeded' });
    // A Number, so filter policies can match cost ranges.
    expect(delivered[0]!.MessageAttributes?.costUsd?.Type).toBe('Number');
    // The local farm published its own, with the same attributes.
    expect(Object.keys(delivered[0]!.MessageAttributes ?? {}).sort()).toEqual(Object.keys(passing.local.published[0]!.attributes).sort());
  });

  it(`keeps every state's input and output under ${STATE_PAYLOAD_LIMIT_BYTES} bytes in moto's execution history`, () => {
    const largest = largestStatePayload(passing.build.history);
    console.info(`twin: largest state payload ${largest.bytes} bytes (${largest.where}), ${passing.build.history.length} history events`);
    expect(largest.bytes).toBeGreaterThan(0);
    expect(largest.bytes).toBeLessThan(STATE_PAYLOAD_LIMIT_BYTES);
  });

  it('fails a stage whose command fails, skips its dependents and still ends with a report', async () => {
    expect(failing.execution.status).toBe('SUCCEEDED');
    expect(failing.report?.status).toBe('failed');
    const byName = Object.fromEntries(failing.report!.stages.map((s) => [s.name, s]));
    expect(byName.test).toMatchObject({ status: 'failed', runner: 'lambda', exitCode: 3 });
    expect(byName.package?.status).toBe('skipped');
    expect(byName.build?.status).toBe('succeeded');
    expect((await twin.reports()).some((n) => JSON.parse(n.Message).buildId === 'twin-hello-2')).toBe(true);
  });

  it('waits for needs through Wait for needs and SendTaskSuccess on moto: each stage after its own needs, the releases in the history', () => {
    expect(uneven.execution.status, `${uneven.execution.error}: ${uneven.execution.cause}`).toBe('SUCCEEDED');
    expect(uneven.report?.status).toBe('succeeded');
    const at = Object.fromEntries(uneven.report!.stages.map((s) => [s.name, { started: Date.parse(s.startedAt!), finished: Date.parse(s.finishedAt!) }]));
    // From the stages' own result records, not the test's clock.
    expect(at.c!.started).toBeGreaterThanOrEqual(at.a!.finished);
    expect(at.d!.started).toBeGreaterThanOrEqual(at.c!.finished);
    // NOT asserted: that c starts before the slow b ends. On moto 5.2.1, in two runs on a loaded
    // machine (load average 20+), c started only after b ended (b sleeping 15 s and 45 s), while
    // the local interpreter starts it right after a (test/statemachine/critical-path.test.ts).
    // Why moto's engine holds c back is not yet known; the timeline is printed to find out.
    const timeline = Object.entries(at).map(([name, t]) => `${name} ${t.started - at.a!.started}..${t.finished - at.a!.started} ms`);
    console.info(`twin: uneven stages ${timeline.join(', ')}`);
    const entered = uneven.history.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    // The twin's MaxStageConcurrency is 2, so the batches are [a, b] and [c, d] (domain/plan/batches.ts):
    // d waits for c inside the second batch, and c releases it.
    expect(entered.filter((name) => name === 'Wait, then run on Lambda')).toHaveLength(1); // d
    expect(entered.filter((name) => name === 'Release dependents')).toHaveLength(1); // c
  });

  it('escalates a stage that runs out of Lambda time to Fargate, where it succeeds', () => {
    expect(escalating.execution.status, `${escalating.execution.error}: ${escalating.execution.cause}`).toBe('SUCCEEDED');
    const [stage] = escalating.report!.stages;
    expect(stage, JSON.stringify(stage)).toMatchObject({ name: 'slow', status: 'succeeded', runner: 'fargate', escalated: true });
    const entered = escalating.history.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    expect(entered).toEqual(expect.arrayContaining(['Run on Lambda', 'Prepare Fargate task', 'Run Fargate task', 'Record Fargate result']));
    const caught = escalating.history.find((e) => e.type === 'TaskFailed' && e.taskFailedEventDetails?.error === 'StageTimeout');
    expect(caught, 'the runner failed the task with StageTimeout').toBeDefined();
  });

  it("routes a Catch on a Lambda function error's name and hands the handlers a Cause they read", async () => {
    // What `Run on Lambda` relies on to escalate: the runner throws StageTimeout, the Catch matches the name.
    twin.router.bindFunction('buildfarm-twin-throws', async () => {
      throw Object.assign(new Error('the stage ran out of time'), { name: 'StageTimeout' });
    });
    const invoke = (functionName: string, next: string) => ({
      Type: 'Task',
      Resource: 'arn:aws:states:::lambda:invoke',
      Parameters: { FunctionName: functionName, Payload: {} },
      Catch: [{ ErrorEquals: ['StageTimeout'], ResultPath: '$.escalation', Next: next }, { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }],
      End: true,
    });
    const run = await twin.runDefinition(
      'twin-error-names',
      {
        StartAt: 'Throws',
        States: {
          Throws: invoke('arn:aws:lambda:us-east-1:123456789012:function:buildfarm-twin-throws', 'Missing'),
          Missing: invoke('arn:aws:lambda:us-east-1:123456789012:function:buildfarm-twin-nobody', 'Done'),
          Done: { Type: 'Pass', End: true },
        },
      },
      {},
    );

    expect(run.execution.status, `${run.execution.error}: ${run.execution.cause}`).toBe('SUCCEEDED');
    const output = JSON.parse(run.execution.output!) as { escalation: CaughtError; error: CaughtError };
    expect(output.escalation.Error).toBe('StageTimeout');
    expect(causeMessage(output.escalation)).toBe('the stage ran out of time');
    // Not among any Retry's ErrorEquals: a missing function fails at once, into the Catch.
    expect(output.error.Error).toBe('Lambda.ResourceNotFoundException');
  });
});
