/**
 * events/ holds one JSON file per handler scenario, for the tests and for `sam local invoke -e`.
 * These tests keep them honest: each parses, is listed in events/README.md, has the shape the
 * state machine really sends its task (captured from a run of build.asl.json), and the task
 * events run through their handlers, one after another, as one build.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { pricedCostModel } from '../../functions/domain/report/cost-model.js';
import type { BuildReport, StageResult } from '../../functions/domain/report/types.js';
import { historyKey, stageResultKey } from '../../functions/domain/storage-keys.js';
import type {
  PlanTaskInput,
  RecordFargateResultInput,
  ReportTaskInput,
  SelectStagesInput,
} from '../../functions/handlers/build-state-machine.js';
import { planTask } from '../../functions/handlers/plan.js';
import { reportTask } from '../../functions/handlers/report.js';
import { scheduleTask } from '../../functions/handlers/schedule.js';
import { runBuildLocally, type LocalTaskBindings } from '../../functions/local/state-machine-runner.js';
import { loadEvent } from '../support/events.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { BUILD_ID, createFarm, REQUEST, tarball } from '../statemachine/support/farm.js';

/** The key the report recorded a stage's history under: `history/{repo}/{stage}/{definition hash}.json`. */
function recordedHistoryKey(objects: { keys(): Iterable<string> }, repository: string, stage: string): string {
  const prefix = historyKey(repository, stage).replace(/\.json$/, '/');
  return [...objects.keys()].find((key) => key.startsWith(prefix)) ?? `${prefix}(none)`;
}
import { MemoryStore } from '../statemachine/support/memory-store.js';

const EVENTS = new URL('../../events/', import.meta.url);
const eventFiles = readdirSync(EVENTS).filter((name) => name.endsWith('.json')).sort();

/** Which task input each state machine event stands for (the key its payload is captured under). */
const TASK_EVENTS: Record<string, string> = {
  'plan.json': 'plan',
  'schedule-select-stages.json': 'schedule:selectStages',
  'schedule-record-fargate-result.json': 'schedule:recordFargateResult',
  'schedule-wait-for-needs.json': 'schedule:waitForNeeds',
  'schedule-release-dependents.json': 'schedule:releaseDependents',
  'lambda-runner.json': 'lambda-runner',
  'fargate-prepare.json': 'fargate-prepare',
  'fargate-prepare-escalated.json': 'fargate-prepare',
  'report.json': 'report',
  'report-invalid-pipeline.json': 'report:error',
};

/**
 * Fields an event may carry that the captured payload lacks: optional in their types and absent
 * from the test farm's inputs (a push's changed files; parts of a real ECS task the stub omits).
 */
const OPTIONAL_FIELDS = new Set(['changedFiles', 'PullStoppedAt', 'LastStatus']);

/** Where `event` differs in shape from `sent`: keys, types, nesting (values may differ). */
function shapeDifferences(event: unknown, sent: unknown, path = '$'): string[] {
  // A caught error is null on the happy path and an object after a Catch: both are the field's shape.
  if (event === null || sent === null) return event === sent || typeof (event ?? sent) === 'object' ? [] : [`${path}: ${JSON.stringify(event)} vs ${JSON.stringify(sent)}`];
  if (Array.isArray(sent)) {
    if (!Array.isArray(event)) return [`${path}: expected an array`];
    return sent.length > 0 && event.length > 0 ? shapeDifferences(event[0], sent[0], `${path}[0]`) : [];
  }
  if (typeof sent !== 'object') return typeof event === typeof sent ? [] : [`${path}: ${typeof event} instead of ${typeof sent}`];
  if (typeof event !== 'object' || Array.isArray(event)) return [`${path}: expected an object`];
  const e = event as Record<string, unknown>;
  const s = sent as Record<string, unknown>;
  const missing = Object.keys(s).filter((k) => !(k in e)).map((k) => `${path}.${k}: missing`);
  const extra = Object.keys(e).filter((k) => !(k in s) && !OPTIONAL_FIELDS.has(k)).map((k) => `${path}.${k}: not sent by the state machine`);
  const nested = Object.keys(s).filter((k) => k in e).flatMap((k) => shapeDifferences(e[k], s[k], `${path}.${k}`));
  return [...missing, ...extra, ...nested];
}

/** Runs build.asl.json over the test farm and keeps the first payload each task received. */
async function capturePayloads(): Promise<Record<string, unknown>> {
  const seen: Record<string, unknown> = {};
  const keep = (key: string, payload: unknown) => {
    seen[key] ??= structuredClone(payload);
  };
  const capture = async (stages: Parameters<typeof createFarm>[0], options?: Parameters<typeof createFarm>[1]) => {
    const farm = createFarm(stages, options);
    const real = farm.bindings;
    const bindings: LocalTaskBindings = {
      ...real,
      plan: (input) => (keep('plan', input), real.plan(input)),
      schedule: (input, tokens) => (keep(`schedule:${input.action}`, input), real.schedule(input, tokens)),
      report: (input) => (keep(input.state.error ? 'report:error' : 'report', input), real.report(input)),
      runLambdaStage: (event, fn) => (keep('lambda-runner', event), real.runLambdaStage(event, fn)),
      prepareFargate: (event) => (keep('fargate-prepare', event), real.prepareFargate(event)),
    };
    await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, bindings);
  };
  await capture({
    test: { runner: 'lambda', lambda: { kind: 'throw', name: 'StageTimeout', message: 'stage ran out of time after 900 s' } },
  });
  // A chain in one batch: Wait for needs and Release dependents.
  await capture({ build: { runner: 'lambda' }, test: { runner: 'lambda', needs: ['build'] } });
  await capture({}, { pipelineText: 'version: 1\nstages: {}\n' });
  return seen;
}

/** The result record the Fargate publish container writes for the task in the event. */
function publishedResult(input: RecordFargateResultInput): StageResult {
  const task = input.task!;
  return {
    buildId: input.buildId,
    stage: input.stage.name,
    status: 'succeeded',
    runner: 'fargate',
    exitCode: 0,
    reason: 'all commands exited 0',
    startedAt: new Date(task.StartedAt!).toISOString(),
    finishedAt: new Date(task.StoppedAt!).toISOString(),
    durationMs: task.StoppedAt! - task.StartedAt!,
    peakMemoryMiB: 900,
    peakDiskMiB: 1400,
    logKey: `builds/${input.buildId}/stages/${input.stage.name}/log.txt`,
    manifestKey: `builds/${input.buildId}/stages/${input.stage.name}/manifest.json`,
    artifactCount: 0,
    artifactBytes: 0,
  };
}

describe('events/', () => {
  it('every file is JSON and is described in events/README.md', () => {
    // Prepare
    const readme = readFileSync(new URL('README.md', EVENTS), 'utf8');

    // Act
    const unparsable = eventFiles.filter((name) => {
      try {
        JSON.parse(readFileSync(new URL(name, EVENTS), 'utf8'));
        return false;
      } catch {
        return true;
      }
    });

    // Assess
    expect(unparsable).toEqual([]);
    expect(eventFiles.filter((name) => !readme.includes(`\`${name}\``))).toEqual([]);
  });

  it('has an event for every task of the state machine, each shaped as the task really receives it', async () => {
    // Prepare
    const sent = await capturePayloads();

    // Act
    const differences = Object.fromEntries(
      Object.entries(TASK_EVENTS).map(([file, task]) => [file, sent[task] === undefined ? [`no ${task} payload captured`] : shapeDifferences(loadEvent(file), sent[task])]),
    );

    // Assess
    expect(Object.keys(TASK_EVENTS).every((file) => eventFiles.includes(file))).toBe(true);
    expect(differences).toEqual(Object.fromEntries(Object.keys(TASK_EVENTS).map((file) => [file, []])));
  });

  it('catches a field the state machine does not send, or one it sends and the event lacks', () => {
    // Act
    const differences = shapeDifferences({ buildId: 'b', stageName: 's', planKey: 'k', fromfork: false }, { buildId: 'b', stageName: 's', planKey: 'k', fromFork: false });

    // Assess
    expect(differences).toEqual(['$.fromFork: missing', '$.fromfork: not sent by the state machine']);
  });

  it('plan, select stages, record Fargate result and report run through their handlers as one build', async () => {
    // Prepare
    const store = new MemoryStore();
    const notifier = new RecordingNotifier();
    const plan = loadEvent<PlanTaskInput>('plan.json');
    const select = loadEvent<SelectStagesInput>('schedule-select-stages.json');
    const record = loadEvent<RecordFargateResultInput>('schedule-record-fargate-result.json');
    const report = loadEvent<ReportTaskInput>('report.json');
    const pipeline = 'version: 1\non:\n  push: {}\nstages:\n  test:\n    commands: [npm ci, npm test]\n';
    const now = () => new Date('2026-11-22T12:20:00.000Z');

    // Act
    const planned = await planTask(plan, {
      store,
      source: { snapshot: () => tarball({ '.buildfarm.yml': pipeline }) },
      config: { region: 'us-east-1', lambdaEphemeralStorageMB: 512 },
      prices: DEFAULT_PRICE_BOOK,
    });
    const selected = await scheduleTask(select, { store, now });
    // What the task in schedule-record-fargate-result.json left behind: its publish container's record.
    await store.put(stageResultKey(record.buildId, 'test'), JSON.stringify(publishedResult(record)));
    const recorded = await scheduleTask(record, { store, now });
    const reported = await reportTask(report, { store, notifier, costs: pricedCostModel(DEFAULT_PRICE_BOOK.regions['us-east-1']!), now, region: 'us-east-1' });

    // Assess: each event's keys and values line up with what the one before produced
    expect(planned).toEqual(report.state.plan);
    expect(selected).toMatchObject({ run: [{ name: 'test', runner: 'lambda', lambdaFunction: select.lambdaRunnerFunctionArn }], skipped: [] });
    expect(recorded).toEqual({ stage: 'test', status: 'succeeded', rerun: null });
    expect(store.json<StageResult>(stageResultKey(record.buildId, 'test'))).toMatchObject({ runner: 'fargate', status: 'succeeded' });
    expect(reported.status).toBe('succeeded');
    const built = store.json<BuildReport>(reported.reportKey)!;
    expect(built.stages.map((s) => [s.name, s.status, s.runner, s.escalated])).toEqual([['test', 'succeeded', 'fargate', true]]);
    expect(store.json(recordedHistoryKey(store.objects, report.state.request.repository, 'test'))).toEqual({ durationsMs: [1_001_400], peakMemoryMiB: 900, peakDiskMiB: 1400, escalated: true });
    expect(JSON.parse(notifier.published[0]!.message).link).toContain(report.executionArn);
  });
});
