/**
 * Critical-path scheduling on the local interpreter (aws-local-stepfunctions running the real
 * build.asl.json, the real schedule function behind `Wait for needs` and `Release dependents`).
 * Orders are asserted from the sequence of stage starts and ends, not from wall-clock gaps.
 */
import { describe, expect, it } from 'vitest';
import type { StageResult } from '../../functions/domain/report/types.js';
import { stageResultKey } from '../../functions/domain/storage-keys.js';
import { runBuildLocally } from '../../functions/local/state-machine-runner.js';
import { BUILD_ID, createFarm, REQUEST, type ScenarioStage } from './support/farm.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs the scenario with each Lambda stage taking `holdMs[name]`; returns the start/end sequence. */
async function run(stages: Record<string, ScenarioStage>, holdMs: Record<string, number>, maxStageConcurrency: number) {
  const farm = createFarm(stages);
  const sequence: string[] = [];
  let running = 0;
  let mostRunning = 0;
  const runLambdaStage = farm.bindings.runLambdaStage;
  farm.bindings.runLambdaStage = async (event, fn) => {
    sequence.push(`start ${event.stageName}`);
    running += 1;
    mostRunning = Math.max(mostRunning, running);
    try {
      await sleep(holdMs[event.stageName] ?? 10);
      return await runLambdaStage(event, fn);
    } finally {
      running -= 1;
      sequence.push(`end ${event.stageName}`);
    }
  };
  const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, { substitutions: { MaxStageConcurrency: String(maxStageConcurrency) } });
  const resultOf = (name: string) => farm.store.json<StageResult>(stageResultKey(BUILD_ID, name));
  return { result, sequence, mostRunning, resultOf, farm };
}

describe('Critical-path scheduling (local interpreter)', () => {
  it('starts a stage when its own needs end, not when its wave does: d (after a and c) ends before the slow b', async () => {
    // Prepare: waves would be [a, b], [c], [d], so c and d would wait for b
    const stages: Record<string, ScenarioStage> = {
      a: { runner: 'lambda' },
      b: { runner: 'lambda' },
      c: { runner: 'lambda', needs: ['a'] },
      d: { runner: 'lambda', needs: ['c'] },
    };

    // Act
    const { result, sequence } = await run(stages, { a: 50, b: 4000, c: 50, d: 50 }, 4);

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect(sequence.indexOf('start c')).toBeGreaterThan(sequence.indexOf('end a'));
    expect(sequence.indexOf('start d')).toBeGreaterThan(sequence.indexOf('end c'));
    expect(sequence.indexOf('end d')).toBeLessThan(sequence.indexOf('end b'));
  });

  it('skips the dependents of a failed stage, through the chain, and runs the rest', async () => {
    // Prepare
    const stages: Record<string, ScenarioStage> = {
      a: { runner: 'lambda', lambda: { kind: 'fail', exitCode: 2, durationMs: 10 } },
      b: { runner: 'lambda' },
      c: { runner: 'lambda', needs: ['a'] },
      d: { runner: 'fargate', needs: ['c'] },
      e: { runner: 'lambda', needs: ['b'] },
    };

    // Act
    const { result, sequence, resultOf, farm } = await run(stages, {}, 8);

    // Assess
    expect(result.output.status).toBe('failed');
    expect(resultOf('c')).toMatchObject({ status: 'skipped', reason: 'needs a failed' });
    expect(resultOf('d')).toMatchObject({ status: 'skipped', reason: 'needs c was skipped' });
    expect(resultOf('e')?.status).toBe('succeeded');
    expect(sequence).not.toContain('start c');
    expect(farm.fargateCalls).toEqual([]);
  });

  it('with fail-fast, skips a waiting stage once a failure is recorded, even when its own needs succeeded', async () => {
    // Prepare: x fails on Fargate (a control-plane step records it); y waits for the slower z
    const stages: Record<string, ScenarioStage> = {
      x: { runner: 'fargate', fargate: { kind: 'taskFailed', exitCode: 1, spanMs: 10, stoppedReason: 'Essential container in task exited' } },
      z: { runner: 'lambda' },
      y: { runner: 'lambda', needs: ['z'] },
    };
    const farm = createFarm(stages, { failFast: true });
    const runLambdaStage = farm.bindings.runLambdaStage;
    farm.bindings.runLambdaStage = async (event, fn) => {
      if (event.stageName === 'z') await sleep(1500);
      return runLambdaStage(event, fn);
    };

    // Act
    const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings, { substitutions: { MaxStageConcurrency: '4' } });

    // Assess
    expect(result.output.status).toBe('failed');
    expect(farm.store.json<StageResult>(stageResultKey(BUILD_ID, 'y'))).toMatchObject({ status: 'skipped', reason: 'fail-fast: x failed' });
    expect(farm.lambdaCalls).toEqual(['z']);
  });

  it('runs a 45-stage fan-out and fan-in at concurrency 40 without deadlock, never more than 40 at once', async () => {
    // Prepare: root -> 43 stages -> join. The 43 are one wave bigger than the limit: a batch of
    // their own, in which nothing waits, so the Map may start them in any order.
    const stages: Record<string, ScenarioStage> = { root: { runner: 'lambda' } };
    for (let i = 0; i < 43; i += 1) stages[`m${i}`] = { runner: 'lambda', needs: ['root'] };
    stages.join = { runner: 'lambda', needs: Array.from({ length: 43 }, (_, i) => `m${i}`) };
    const hold = Object.fromEntries(Object.keys(stages).map((name) => [name, 30]));

    // Act
    const { result, mostRunning, sequence } = await run(stages, hold, 40);

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect(sequence.filter((line) => line.startsWith('end '))).toHaveLength(45);
    expect(mostRunning).toBeLessThanOrEqual(40);
    expect(mostRunning).toBeGreaterThan(1);
  }, 120_000);

  it('runs 45 stages in chains of three at concurrency 40: batches of whole waves, waits only inside a batch', async () => {
    // Prepare: 15 chains a_i -> b_i -> c_i; waves of 15, so batches [a, b] (30 stages) and [c]
    const stages: Record<string, ScenarioStage> = {};
    for (let i = 0; i < 15; i += 1) {
      stages[`a${i}`] = { runner: 'lambda' };
      stages[`b${i}`] = { runner: 'lambda', needs: [`a${i}`] };
      stages[`c${i}`] = { runner: 'lambda', needs: [`b${i}`] };
    }
    const hold = Object.fromEntries(Object.keys(stages).map((name) => [name, 20]));

    // Act
    const { result, mostRunning } = await run(stages, hold, 40);

    // Assess
    expect(result.output.status).toBe('succeeded');
    expect(mostRunning).toBeLessThanOrEqual(40);
  }, 120_000);
});
