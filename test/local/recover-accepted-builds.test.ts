import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import { executionName } from '../../functions/domain/webhook/execution-name.js';
import { BuildStore } from '../../functions/local/build-store.js';
import type { LocalFarm } from '../../functions/local/farm.js';
import { recoverAcceptedBuilds } from '../../functions/local/recover-accepted-builds.js';
import { pushRequest, startTestFarm, type TestFarm } from './support/test-farm.js';

describe('Function: recoverAcceptedBuilds (at the farm\'s start)', () => {
  let directory: string;
  let farm: TestFarm | undefined;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'recover-'));
  });
  afterEach(async () => {
    await farm?.close();
    farm = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  it('builds a delivery that was answered 202 (on the bus) but had no build when the farm died', async () => {
    // Prepare: what a farm killed right after its reply leaves on disk: the message, no build record.
    const request = pushRequest();
    const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
    await bus.publish('BuildRequests', JSON.stringify(request), {});
    const id = executionName(request.deliveryId, request.repository);
    // Act
    farm = await startTestFarm({ directory });
    // Assess
    expect(farm.recovery.replayed).toEqual([id]);
    expect((await farm.farm.settled(id)).state).toBe('succeeded');
  });

  it('starts nothing again for deliveries that already have a build, and re-runs an interrupted build only once', async () => {
    // Prepare: one finished build and one build that was itself a re-run when it was cut off.
    const done = pushRequest();
    const doneId = executionName(done.deliveryId, done.repository);
    const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
    await bus.publish('BuildRequests', JSON.stringify(done), {});
    const store = await BuildStore.open(join(directory, 'builds'));
    const queuedAt = new Date().toISOString();
    await store.save({ id: doneId, request: done, state: 'succeeded', queuedAt, stages: [] });
    await store.save({ id: 'old-rerun', request: pushRequest(), state: 'running', queuedAt, stages: [] });
    await store.flush();
    // Act
    farm = await startTestFarm({ directory });
    // Assess
    expect(farm.recovery).toEqual({ replayed: [], rerun: [], unreadable: 0, deferred: [] });
    expect(farm.store.get('old-rerun')!.state).toBe('interrupted');
    expect(farm.store.get('old-rerun')!.rerunId).toBeUndefined();
  });

  it('defers a build it cannot start (a full disk: its record cannot be written) instead of failing the farm\'s start; it stays on the bus', async () => {
    // Prepare: an accepted delivery, and a farm whose build store answers ENOSPC (the disk is full)
    const request = pushRequest();
    const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
    await bus.publish('BuildRequests', JSON.stringify(request), {});
    const store = await BuildStore.open(join(directory, 'builds'));
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const farmOnFullDisk = { start: async () => Promise.reject(full) } as unknown as LocalFarm;
    // Act
    const outcome = await recoverAcceptedBuilds({ bus, farm: farmOnFullDisk, store });
    // Assess
    expect(outcome.deferred).toEqual([{ id: request.deliveryId, reason: full.message }]);
    expect(outcome.replayed).toEqual([]);
    expect(bus.messages('BuildRequests')).toHaveLength(1);
  });
});
