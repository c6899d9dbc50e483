import { describe, expect, it } from 'vitest';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import type { BuildRunner } from '../../functions/local/build-runner.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { LocalFarm, type FarmEvent } from '../../functions/local/farm.js';
import { MemoryArtifactStore } from './support/memory-artifact-store.js';
import { ScriptedRunner } from './support/scripted-runner.js';
import { pushRequest } from './support/test-farm.js';

async function makeFarm(options: { hold?: { stage: string; buildId?: string }; fail?: { stage: string; buildId?: string }; maxConcurrentBuilds?: number; runner?: BuildRunner } = {}) {
  const bus = await LocalBus.open();
  const store = await BuildStore.open(undefined);
  const artifacts = new MemoryArtifactStore();
  const scripted = new ScriptedRunner({ artifacts, reports: bus.notifier('BuildReports'), hold: options.hold, fail: options.fail });
  const events: FarmEvent[] = [];
  const farm = new LocalFarm({ store, runner: options.runner ?? scripted, artifacts, bus, maxConcurrentBuilds: options.maxConcurrentBuilds, onEvent: (e) => events.push(e) });
  return { farm, bus, store, artifacts, runner: scripted, events };
}

describe('Class: LocalFarm', () => {
  describe('Method: start', () => {
    it('runs a build to its report, with stage progress and the published report message', async () => {
      // Prepare
      const { farm, events } = await makeFarm();
      // Act
      const started = await farm.start('b1', { buildId: 'b1', request: pushRequest() });
      const record = await farm.settled('b1');
      // Assess
      expect(started).toEqual({ executionArn: expect.stringMatching(/:b1$/), alreadyStarted: false });
      expect(record.state).toBe('succeeded');
      expect(record.stages.map((s) => [s.name, s.status])).toEqual([['build', 'succeeded'], ['lint', 'succeeded'], ['test', 'succeeded'], ['package', 'succeeded']]);
      expect(record.stages.every((s) => typeof s.costUsd === 'number')).toBe(true);
      expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'planned', ...Array(4).fill(['stage-started', 'stage-finished']).flat(), 'finished']);
      expect(JSON.parse(farm.get('b1')!.reportMessage!.message).buildId).toBe('b1');
    });

    it('treats a second start with the same execution name as a duplicate and runs the build once', async () => {
      // Prepare
      const { farm, runner } = await makeFarm();
      const input = { buildId: 'dup', request: pushRequest() };
      // Act
      const first = await farm.start('dup', input);
      const second = await farm.start('dup', input);
      await farm.settled('dup');
      // Assess
      expect(first.alreadyStarted).toBe(false);
      expect(second).toEqual({ executionArn: first.executionArn, alreadyStarted: true });
      expect(runner.runs).toHaveLength(1);
    });

    it('rejects an input that is not a build execution input', async () => {
      // Prepare
      const { farm } = await makeFarm();
      // Act
      const starting = farm.start('bad', { hello: 'world' });
      // Assess
      await expect(starting).rejects.toMatchObject({ name: 'InvalidExecutionInput' });
      expect(farm.list()).toEqual([]);
    });

    it('queues builds beyond the concurrency limit and runs them in turn', async () => {
      // Prepare
      const { farm, runner } = await makeFarm({ maxConcurrentBuilds: 1, hold: { stage: 'build', buildId: 'first' } });
      await farm.start('first', { buildId: 'first', request: pushRequest() });
      // Act
      await farm.start('second', { buildId: 'second', request: pushRequest() });
      const whileHeld = farm.list().map((b) => [b.id, b.status]);
      runner.release();
      await farm.settled('second');
      // Assess
      expect(whileHeld).toEqual(expect.arrayContaining([['first', 'running'], ['second', 'queued']]));
      expect(farm.get('second')!.status).toBe('succeeded');
    });

    it('records a build whose runner throws as an error, with the message', async () => {
      // Prepare
      const failing: BuildRunner = { run: async () => { throw Object.assign(new Error('git archive failed: unknown revision'), { name: 'SourceUnavailable' }); } };
      const { farm } = await makeFarm({ runner: failing });
      // Act
      await farm.start('broken', { buildId: 'broken', request: pushRequest() });
      const record = await farm.settled('broken');
      // Assess
      expect(record.state).toBe('error');
      expect(record.error).toEqual({ name: 'SourceUnavailable', message: 'git archive failed: unknown revision' });
    });
  });

  describe('Method: get', () => {
    it('shows a failed stage and skips its dependents', async () => {
      // Prepare
      const { farm } = await makeFarm({ fail: { stage: 'test' } });
      // Act
      await farm.start('red', { buildId: 'red', request: pushRequest() });
      await farm.settled('red');
      // Assess
      const detail = farm.get('red')!;
      expect(detail.status).toBe('failed');
      expect(detail.stages.map((s) => [s.name, s.status])).toEqual([['build', 'succeeded'], ['lint', 'succeeded'], ['test', 'failed'], ['package', 'skipped']]);
    });
  });

  describe('Method: stop', () => {
    it('aborts a running build and marks it and its unfinished stages cancelled', async () => {
      // Prepare
      const { farm } = await makeFarm({ hold: { stage: 'package' } });
      const { executionArn } = await farm.start('long', { buildId: 'long', request: pushRequest() });
      await expect.poll(() => farm.get('long')!.stages.find((s) => s.name === 'package')?.status).toBe('running');
      // Act
      await farm.stop(executionArn, 'superseded');
      const record = await farm.settled('long');
      // Assess
      expect(record.state).toBe('cancelled');
      expect(record.error).toEqual({ name: 'Cancelled', message: 'superseded' });
      expect(record.stages.map((s) => s.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'cancelled']);
    });
  });

  describe('Method: findRunning', () => {
    it('lists the running and queued builds of the branch, not finished ones or other branches and repositories', async () => {
      // Prepare
      const { farm, runner } = await makeFarm({ maxConcurrentBuilds: 1, hold: { stage: 'build', buildId: 'running' } });
      await farm.start('done', { buildId: 'done', request: pushRequest() });
      await farm.settled('done');
      await farm.start('running', { buildId: 'running', request: pushRequest() });
      await farm.start('queued', { buildId: 'queued', request: pushRequest({ repository: 'Octo-Org/Hello-Farm' }) });
      await farm.start('other-branch', { buildId: 'other-branch', request: pushRequest({ branch: 'dev', ref: 'refs/heads/dev' }) });
      await farm.start('other-repository', { buildId: 'other-repository', request: pushRequest({ repository: 'octo-org/other' }) });
      // Act
      const running = await farm.findRunning('octo-org/hello-farm', 'main');
      runner.release();
      // Assess
      expect(running.map((b) => [b.executionArn, b.input.buildId]).sort()).toEqual([
        [expect.stringMatching(/:queued$/), 'queued'],
        [expect.stringMatching(/:running$/), 'running'],
      ]);
      expect(running.find((b) => b.input.buildId === 'queued')!.input.request.repository).toBe('Octo-Org/Hello-Farm');
    });
  });

  describe('Method: startHandedOver', () => {
    it('builds a run handed over like a webhook build, but never lists it as one another build could supersede', async () => {
      // Prepare
      const { farm, runner } = await makeFarm({ hold: { stage: 'build', buildId: 'handed' } });
      const stages: string[] = [];
      const progress = { planned: () => undefined, stageStarted: (stage: string) => stages.push(stage), stageLog: () => undefined, stageFinished: () => undefined };
      // Act
      await farm.startHandedOver('handed', pushRequest(), { repository: 'octo-org/hello-farm', path: '/nowhere' }, progress);
      const running = await farm.findRunning('octo-org/hello-farm', 'main');
      const twice = await farm.startHandedOver('handed', pushRequest(), { repository: 'octo-org/hello-farm', path: '/nowhere' }, progress).catch((error: Error) => error.message);
      runner.release();
      const record = await farm.settled('handed');
      // Assess
      expect(running).toEqual([]);
      expect(twice).toBe('a build named handed already exists on this farm');
      expect(record.state).toBe('succeeded');
      expect(stages[0]).toBe('build');
    });
  });

  describe('Method: shutdown', () => {
    it('cancels running and queued builds and refuses new ones', async () => {
      // Prepare
      const { farm } = await makeFarm({ maxConcurrentBuilds: 1, hold: { stage: 'build' } });
      await farm.start('running', { buildId: 'running', request: pushRequest() });
      await farm.start('queued', { buildId: 'queued', request: pushRequest() });
      // Act
      await farm.shutdown('Ctrl-C');
      // Assess
      expect(farm.get('running')!.status).toBe('cancelled');
      expect(farm.get('queued')!.status).toBe('cancelled');
      await expect(farm.start('late', { buildId: 'late', request: pushRequest() })).rejects.toThrow(/shutting down/);
    });
  });

  describe('Method: artifact', () => {
    it('serves only what a stage manifest lists, streamed out of the stage archive', async () => {
      // Prepare
      const { farm, artifacts } = await makeFarm();
      await farm.start('a1', { buildId: 'a1', request: pushRequest() });
      await farm.settled('a1');
      await artifacts.put('builds/a1/stages/build/artifacts/secret.txt', 'not published');
      // Act
      const listed = await farm.artifact('a1', 'build', 'dist/hello.txt');
      const unlisted = await farm.artifact('a1', 'build', 'secret.txt');
      // Assess
      expect(Buffer.concat(await listed!.toArray()).toString()).toBe('Hello, farm!\n');
      expect(unlisted).toBeUndefined();
    });
  });
});
