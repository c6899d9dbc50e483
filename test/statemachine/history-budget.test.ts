/**
 * History events per stage kind, counted along the paths build.asl.json really takes (the local
 * interpreter walks it), converted to the events Step Functions records for each state type
 * (domain/plan/history-budget.ts lists them with the link); and the planner's refusal of a
 * pipeline whose build could exceed the 25,000-event history.
 */
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { EVENTS_PER_BUILD, EVENTS_PER_STAGE, EVENTS_PER_STATE, EVENTS_PER_BATCH, HISTORY_EVENT_LIMIT } from '../../functions/domain/plan/history-budget.js';
import { planPipeline } from '../../functions/domain/plan/planner.js';
import { readBuildDefinition } from '../../functions/local/asl-definition.js';
import { runBuildLocally, type LocalEvent } from '../../functions/local/state-machine-runner.js';
import { BUILD_ID, createFarm, REQUEST, type ScenarioStage } from './support/farm.js';

type State = { Type: string; Resource?: string; ItemProcessor?: { States: Record<string, State> } };

async function resources(): Promise<Map<string, string>> {
  const definition = JSON.parse(await readBuildDefinition()) as { States: Record<string, State> };
  const found = new Map<string, string>();
  const walk = (states: Record<string, State>) => {
    for (const [name, state] of Object.entries(states)) {
      if (state.Resource) found.set(name, state.Resource);
      if (state.ItemProcessor) walk(state.ItemProcessor.States);
    }
  };
  walk(definition.States);
  return found;
}

/** The AWS history events of a local run: each interpreter event mapped to what AWS records for it. */
async function historyEvents(stages: Record<string, ScenarioStage>, maxStageConcurrency = 4): Promise<number> {
  const byName = await resources();
  const E = EVENTS_PER_STATE;
  let count = E.execution;
  const onEvent = (event: LocalEvent) => {
    if (event.type === 'StateRetried') count += E.retry;
    if (event.type === 'MapIterationStarted') count += E.mapIteration;
    if (event.type !== 'StateEntered' || !event.state) return;
    const perType: Record<string, number> = { Choice: E.choice, Pass: E.pass, Succeed: E.succeed, Map: E.map };
    const resource = byName.get(event.state.name) ?? '';
    const task = resource.endsWith('.sync') ? E.syncTask : resource.endsWith('.waitForTaskToken') ? E.callbackTask : E.task;
    count += event.state.type === 'Task' ? task : perType[event.state.type]!;
  };
  await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, createFarm(stages).bindings, { onEvent, substitutions: { MaxStageConcurrency: String(maxStageConcurrency) } });
  return count;
}

describe('History events per stage kind (25,000 per execution)', () => {
  it('a Lambda stage', async () => {
    expect(await historyEvents({ a: { runner: 'lambda' } })).toBe(EVENTS_PER_BUILD + EVENTS_PER_BATCH + EVENTS_PER_STAGE.lambda);
  });

  it('a Fargate stage', async () => {
    expect(await historyEvents({ a: { runner: 'fargate' } })).toBe(EVENTS_PER_BUILD + EVENTS_PER_BATCH + EVENTS_PER_STAGE.fargate);
  });

  it('a Lambda stage escalated to Fargate', async () => {
    const events = await historyEvents({ a: { runner: 'lambda', lambda: { kind: 'throw', name: 'StageTimeout', message: 'ran out of time' } } });
    expect(events).toBe(EVENTS_PER_BUILD + EVENTS_PER_BATCH + EVENTS_PER_STAGE.escalated);
  });

  it('a skipped stage of a later batch (its upstream failed): Select stages records it, no iteration', async () => {
    // Concurrency 1: a batch holds one stage, so b is in the batch after a's
    const events = await historyEvents({ a: { runner: 'lambda', lambda: { kind: 'fail', exitCode: 1, durationMs: 10 } }, b: { runner: 'lambda', needs: ['a'] } }, 1);
    expect(events).toBe(EVENTS_PER_BUILD + 2 * EVENTS_PER_BATCH + EVENTS_PER_STAGE.lambda + EVENTS_PER_STAGE.skipped);
  });

  it('a chain in one batch: the need releases (Release dependents), the dependent waits (Wait for needs)', async () => {
    const events = await historyEvents({ a: { runner: 'lambda' }, b: { runner: 'lambda', needs: ['a'] }, c: { runner: 'fargate', needs: ['b'] } }, 4);
    const { lambda, fargate, waitExtra, releaseExtra } = EVENTS_PER_STAGE;
    expect(events).toBe(EVENTS_PER_BUILD + EVENTS_PER_BATCH + (lambda + releaseExtra) + (lambda + waitExtra + releaseExtra) + (fargate + waitExtra));
  });

  it('a skipped stage of the same batch: its wait fails NeedsNotMet and the iteration ends', async () => {
    const events = await historyEvents({ a: { runner: 'lambda', lambda: { kind: 'fail', exitCode: 1, durationMs: 10 } }, b: { runner: 'lambda', needs: ['a'] } }, 4);
    expect(events).toBe(EVENTS_PER_BUILD + EVENTS_PER_BATCH + EVENTS_PER_STAGE.lambda + EVENTS_PER_STAGE.releaseExtra + EVENTS_PER_STAGE.skippedWaiting);
  });

  it('a Spot stage Fargate interrupted, within the extra its worst case allows', async () => {
    const events = await historyEvents({ a: { runner: 'fargate', spot: true, fargate: { kind: 'spotInterrupted', spanMs: 1000, then: { kind: 'succeed', billedSpanMs: 1, durationMs: 1 } } } });
    const extra = events - (EVENTS_PER_BUILD + EVENTS_PER_BATCH + EVENTS_PER_STAGE.fargate);
    expect(extra).toBeGreaterThan(0);
    expect(extra).toBeLessThanOrEqual(EVENTS_PER_STAGE.spotExtra);
  });
});

describe('Planner: the history limit', () => {
  const chain = (count: number, runner: 'lambda' | 'fargate') =>
    ['version: 1', 'stages:', ...Array.from({ length: count }, (_, i) => [`  s${i}:`, `    runner: ${runner}`, '    commands: [make]', ...(i > 0 ? [`    needs: [s${i - 1}]`] : [])]).flat()].join('\n');
  const plan = (text: string) => planPipeline(parsePipeline(text), { event: 'push', branch: 'main' }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, { prices: DEFAULT_PRICE_BOOK });

  it('refuses about 1,200 chained Fargate stages, naming the limit', () => {
    expect(() => plan(chain(1200, 'fargate'))).toThrow(new RegExp(`limit of ${HISTORY_EVENT_LIMIT} events per execution`));
  });

  it('plans a chain that fits', () => {
    expect(plan(chain(300, 'fargate')).stages).toHaveLength(300);
  });
});

describe('Planner: the history bound holds whatever the batches', () => {
  it('counts each wave at the most it adds: a new batch, or waits and releases inside one', async () => {
    const { plannedBuildEvents, EVENTS_PER_BUILD: BUILD, EVENTS_PER_BATCH: BATCH, EVENTS_PER_STAGE: STAGE } = await import('../../functions/domain/plan/history-budget.js');
    const stage = (name: string, needs: string[]) => ({ name, needs, runner: 'lambda' as const, fargate: { spot: false } });
    // a -> {b1..b4}: the second wave joins a's batch (4 waits, 1 release = 29) or starts its own (11)
    const plan = { waves: [['a'], ['b1', 'b2', 'b3', 'b4']], stages: [stage('a', []), ...[1, 2, 3, 4].map((i) => stage(`b${i}`, ['a']))] };
    expect(plannedBuildEvents(plan as never)).toBe(BUILD + BATCH + (4 * STAGE.waitExtra + STAGE.releaseExtra) + 5 * STAGE.lambda);
  });
});
