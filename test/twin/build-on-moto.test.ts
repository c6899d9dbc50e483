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
import { eventIndex, stateEvents } from '../support/twin/state-events.js';

/** Each stage's start and end, from its result record in the report (the stage's own clock). */
function stageTimes(build: TwinBuild): Record<string, { started: number; finished: number }> {
  return Object.fromEntries(build.report!.stages.map((s) => [s.name, { started: Date.parse(s.startedAt!), finished: Date.parse(s.finishedAt!) }]));
}

function timeline(at: Record<string, { started: number; finished: number }>): string {
  const zero = Math.min(...Object.values(at).map((t) => t.started));
  return Object.entries(at).map(([name, t]) => `${name} ${t.started - zero}..${t.finished - zero} ms`).join(', ');
}

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
      - if [ "$BUILDFARM_RUNNER" = lambda ]; then sleep 60; fi
      - echo finished
`;

/**
 * Waves would be [a, b], [c], [d]: c and d would wait for the slow b. For the one-batch build, b
 * sleeps long enough that a, c and d end before it with several seconds per stage round trip
 * (4 to 5 s each on a machine at load average 15; build run alone).
 */
const unevenPipeline = (slowSeconds: number) => `version: 1
on:
  push: {}
stages:
  a:
    commands: [sleep 1]
  b:
    commands: [sleep ${slowSeconds}]
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
  let unevenOneBatch: TwinBuild;

  beforeAll(async () => {
    const repo = await exampleRepo();
    // A second commit whose test script fails, built as a repository of its own (its own stage history).
    await writeFile(join(repo.path, 'scripts', 'test.sh'), '#!/bin/sh\nset -eu\necho "a check failed"\nexit 3\n');
    const git = (...args: string[]) => execFileSync('git', args, { cwd: repo.path, encoding: 'utf8' }).trim();
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'break the test');
    const brokenSha = git('rev-parse', 'HEAD');
    // A third: one small stage on the 1024 MB runner, which the twin gives 30 s, 20 s past the
    // runner's safety margin (room for StageCredentials and the workspace on a loaded machine,
    // where they took over 5 s): on Lambda its command sleeps past that, runs out of Lambda
    // time and the stage escalates to Fargate, where it ends at once.
    await writeFile(join(repo.path, '.buildfarm.yml'), ESCALATING_PIPELINE);
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'a stage too slow for its Lambda');
    const escalatingSha = git('rev-parse', 'HEAD');
    await writeFile(join(repo.path, '.buildfarm.yml'), unevenPipeline(8));
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'uneven stages');
    const unevenSha = git('rev-parse', 'HEAD');
    await writeFile(join(repo.path, '.buildfarm.yml'), unevenPipeline(40));
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qam', 'uneven stages, a slower b');
    const slowerSha = git('rev-parse', 'HEAD');

    twin = await startTwin({ repositoryPath: repo.path, runnerTimeoutSeconds: { 1024: 30 } });
    const input = { buildId: 'twin-hello-1', request: aBuildRequest({ repository: REPOSITORY, sha: repo.sha }) };
    const broken = { buildId: 'twin-hello-2', request: aBuildRequest({ repository: `${REPOSITORY}-broken`, sha: brokenSha }) };
    // All at once: the two engines build the same commit (the twin in moto, the local farm in its
    // embedded S3) while moto runs a second execution of the same state machine.
    const slow = { buildId: 'twin-hello-3', request: aBuildRequest({ repository: `${REPOSITORY}-slow`, sha: escalatingSha }) };
    const unevenInput = { buildId: 'twin-hello-4', request: aBuildRequest({ repository: `${REPOSITORY}-uneven`, sha: unevenSha }) };
    // The same commit on a state machine deployed with MaxStageConcurrency 4: one batch.
    const wideMachine = await twin.buildStateMachine('buildfarm-twin-build-4', { maxStageConcurrency: 4 });
    const unevenWideInput = { buildId: 'twin-hello-5', request: aBuildRequest({ repository: `${REPOSITORY}-uneven-4`, sha: slowerSha }) };
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
    // Alone: beside the others, each stage's round trip through moto took 13 to 24 s on a loaded
    // machine (moto's S3 and engine share one Python process), and the timing says nothing then.
    unevenOneBatch = await twin.runBuild(unevenWideInput, { timeoutMs: 240_000, stateMachineArn: wideMachine });
  }, 480_000);

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
    const at = stageTimes(uneven);
    console.info(`twin: uneven stages at MaxStageConcurrency 2: ${timeline(at)}`);
    // From the stages' own result records, not the test's clock.
    expect(at.c!.started).toBeGreaterThanOrEqual(at.a!.finished);
    expect(at.d!.started).toBeGreaterThanOrEqual(at.c!.finished);
    // The twin's MaxStageConcurrency is 2, so the batches are [a, b] and [c, d] (domain/plan/batches.ts):
    // c is in the second batch and starts only after the whole first one, b included. This is the
    // batch rule, not moto: the same commit in one batch (next test) starts c long before b ends.
    expect(at.c!.started).toBeGreaterThanOrEqual(at.b!.finished);
    const entered = uneven.history.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    // d waits for c inside the second batch, and c releases it.
    expect(entered.filter((name) => name === 'Wait, then run on Lambda')).toHaveLength(1); // d
    expect(entered.filter((name) => name === 'Release dependents')).toHaveLength(1); // c
  });

  it('starts a stage when its own needs end on moto, not when the slow stage of its batch does (MaxStageConcurrency 4: one batch)', () => {
    expect(unevenOneBatch.execution.status, `${unevenOneBatch.execution.error}: ${unevenOneBatch.execution.cause}`).toBe('SUCCEEDED');
    expect(unevenOneBatch.report?.status).toBe('succeeded');
    const at = stageTimes(unevenOneBatch);
    console.info(`twin: uneven stages at MaxStageConcurrency 4: ${timeline(at)}`);
    expect(at.c!.started).toBeGreaterThanOrEqual(at.a!.finished);
    expect(at.d!.started).toBeGreaterThanOrEqual(at.c!.finished);
    // The critical path: c and d ran while b was still sleeping.
    expect(at.c!.started).toBeLessThan(at.b!.finished);
    expect(at.d!.finished).toBeLessThan(at.b!.finished);

    // The engine's own order (history event ids): a's release ended c's wait, c's release ended
    // d's (inside Release dependents, which sends SendTaskSuccess), both before b's run ended.
    const events = stateEvents(unevenOneBatch.history);
    const aReleases = eventIndex(events, 'entered', 'Release dependents', 'a');
    const cWaitEnds = eventIndex(events, 'exited', 'Wait, then run on Lambda and release', 'c');
    const cReleases = eventIndex(events, 'entered', 'Release dependents', 'c');
    const dWaitEnds = eventIndex(events, 'exited', 'Wait, then run on Lambda', 'd');
    const bEnds = eventIndex(events, 'exited', 'Run on Lambda', 'b');
    expect([aReleases, cWaitEnds, cReleases, dWaitEnds, bEnds].every((i) => i >= 0), JSON.stringify(events)).toBe(true);
    expect(aReleases).toBeLessThan(cWaitEnds);
    expect(cWaitEnds).toBeLessThan(cReleases);
    expect(cReleases).toBeLessThan(dWaitEnds);
    expect(dWaitEnds).toBeLessThan(bEnds);
    // One wait per waiting stage (c, d), one release per stage waited for (a, c).
    const entered = unevenOneBatch.history.flatMap((e) => (e.stateEnteredEventDetails ? [e.stateEnteredEventDetails.name] : []));
    expect(entered.filter((name) => name?.startsWith('Wait, then'))).toHaveLength(2);
    expect(entered.filter((name) => name === 'Release dependents')).toHaveLength(2);
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
