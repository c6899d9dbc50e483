/**
 * The callback half of critical-path scheduling (handlers/stage-release.ts) against an in-memory
 * store and a recording token client; and the AWS token client's handling of a token that is
 * already closed (a fake SFN client: the twin runs the real one against moto).
 */
import { describe, expect, it } from 'vitest';
import { SfnTaskTokens } from '../../functions/adapters/aws/sfn-task-tokens.js';
import { stageSlices } from '../../functions/domain/plan/stage-slice.js';
import type { PlannedStage } from '../../functions/domain/plan/types.js';
import type { StageResult } from '../../functions/domain/report/types.js';
import { stagePlanKey, stageResultKey, stageWaitKey } from '../../functions/domain/storage-keys.js';
import { releaseDependentsTask, waitForNeedsTask } from '../../functions/handlers/stage-release.js';
import type { TaskTokens } from '../../functions/ports/task-tokens.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

const PLAN_KEY = 'builds/b/plan.json';

class RecordingTokens implements TaskTokens {
  readonly sent: string[] = [];
  async succeed(token: string): Promise<void> {
    this.sent.push(`success ${token}`);
  }
  async fail(token: string, error: string, cause: string): Promise<void> {
    this.sent.push(`failure ${token} ${error}: ${cause}`);
  }
}

function stage(name: string, needs: string[]): PlannedStage {
  return { name, needs, runner: 'lambda', fargate: { spot: false } } as unknown as PlannedStage;
}

async function setup(stages: PlannedStage[]) {
  const store = new MemoryStore();
  for (const slice of stageSlices({ stages })) await store.put(stagePlanKey(PLAN_KEY, slice.stage.name), JSON.stringify(slice));
  const tokens = new RecordingTokens();
  const deps = { store, tokens, now: () => new Date('2026-11-30T12:00:00Z') };
  const finish = (name: string, status: StageResult['status']) => store.put(stageResultKey('b', name), JSON.stringify({ stage: name, status, runner: 'lambda' }));
  const wait = (name: string, failFast = false) => waitForNeedsTask({ action: 'waitForNeeds', buildId: 'b', planKey: PLAN_KEY, stageName: name, failFast, taskToken: `token-${name}` }, deps);
  const release = (name: string) => releaseDependentsTask({ action: 'releaseDependents', buildId: 'b', planKey: PLAN_KEY, stageName: name, failFast: false }, deps);
  return { store, tokens, finish, wait, release };
}

describe('Wait for needs and Release dependents', () => {
  it('releases a waiting stage once, when its last need ends, and a retried release sends nothing more', async () => {
    const { tokens, finish, wait, release } = await setup([stage('a', []), stage('b', []), stage('c', ['a', 'b'])]);
    await wait('c');
    await finish('a', 'succeeded');
    await release('a');
    expect(tokens.sent).toEqual([]);
    await finish('b', 'succeeded');
    await release('b');
    await release('b');
    expect(tokens.sent).toEqual(['success token-c']);
  });

  it('releases at once a stage whose needs ended before it stored its token (the waiter looks itself)', async () => {
    const { tokens, finish, wait } = await setup([stage('a', []), stage('c', ['a'])]);
    await finish('a', 'succeeded');
    await wait('c');
    expect(tokens.sent).toEqual(['success token-c']);
  });

  it('does not take the Lambda attempt of an escalating stage for its end', async () => {
    const { store, tokens, wait } = await setup([stage('a', []), stage('c', ['a'])]);
    await store.put(stageResultKey('b', 'a'), JSON.stringify({ stage: 'a', status: 'timed_out', runner: 'lambda', errorName: 'StageTimeout' }));
    await wait('c');
    expect(tokens.sent).toEqual([]);
  });

  it('skips the dependents of a failed need through the chain, with NeedsNotMet and a skipped result', async () => {
    const { store, tokens, finish, wait, release } = await setup([stage('a', []), stage('c', ['a']), stage('d', ['c'])]);
    await wait('c');
    await wait('d');
    await finish('a', 'failed');
    await release('a');
    expect(tokens.sent).toEqual(['failure token-c NeedsNotMet: needs a failed', 'failure token-d NeedsNotMet: needs c was skipped']);
    expect(store.json<StageResult>(stageResultKey('b', 'd'))).toMatchObject({ status: 'skipped', errorName: 'NeedsNotMet', reason: 'needs c was skipped' });
    expect(store.json(stageWaitKey('b', 'd'))).toMatchObject({ settled: 'skipped' });
  });

  it('keeps task tokens out of builds/, which every stage of the build may read', () => {
    expect(stageWaitKey('b', 'c')).toBe('waits/b/c.json');
  });
});

describe('SfnTaskTokens', () => {
  const named = (name: string) => Object.assign(new Error(name), { name });

  it('treats a token already closed as done (TaskTimedOut, InvalidToken, TaskDoesNotExist), and throws anything else', async () => {
    for (const name of ['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']) {
      const tokens = new SfnTaskTokens({ send: async () => { throw named(name); } } as never);
      await expect(tokens.succeed('t', {})).resolves.toBeUndefined();
      await expect(tokens.fail('t', 'NeedsNotMet', 'x')).resolves.toBeUndefined();
    }
    const throttled = new SfnTaskTokens({ send: async () => { throw named('ThrottlingException'); } } as never);
    await expect(throttled.succeed('t', {})).rejects.toThrow('ThrottlingException');
  });

  it('sends the output as JSON text and keeps error and cause within their limits', async () => {
    const sent: unknown[] = [];
    const tokens = new SfnTaskTokens({ send: async (command: { input: unknown }) => void sent.push(command.input) } as never);
    await tokens.succeed('t1', { stage: 'c' });
    await tokens.fail('t2', 'E'.repeat(300), 'c'.repeat(40_000));
    expect(sent[0]).toEqual({ taskToken: 't1', output: '{"stage":"c"}' });
    expect(sent[1]).toMatchObject({ taskToken: 't2', error: 'E'.repeat(256) });
    expect((sent[1] as { cause: string }).cause).toHaveLength(32_768);
  });
});
