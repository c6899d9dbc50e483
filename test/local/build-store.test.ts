import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildRecord } from '../../functions/local/build-record.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { pushRequest } from './support/test-farm.js';

function record(id: string, state: BuildRecord['state'], queuedAt: string): BuildRecord {
  return {
    id,
    request: pushRequest(),
    state,
    queuedAt,
    startedAt: state === 'queued' ? undefined : queuedAt,
    stages: [
      { name: 'build', wave: 0, runner: 'lambda', reason: 'small', needs: [], status: state === 'running' ? 'succeeded' : 'pending', predictedCostUsd: 0.0001 },
      { name: 'package', wave: 1, runner: 'fargate', reason: 'image', needs: ['build'], status: state === 'running' ? 'running' : 'pending', predictedCostUsd: 0.001 },
    ],
  };
}

describe('Class: BuildStore', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'build-store-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('removes a build\'s plain files (DIR/ID/, written by buildfarm run) with its record', async () => {
    // Prepare
    const store = await BuildStore.open(directory);
    await store.save(record('b1', 'succeeded', '2026-11-20T10:00:00.000Z'));
    await mkdir(join(directory, 'b1', 'stages', 'build'), { recursive: true });
    await writeFile(join(directory, 'b1', 'stages', 'build', 'log.txt'), 'log');
    // Act
    await store.remove('b1');
    // Assess
    expect(await readdir(directory)).toEqual([]);
  });

  it('keeps builds across a restart, newest first', async () => {
    // Prepare
    const store = await BuildStore.open(directory);
    await store.save(record('older', 'succeeded', '2026-11-20T10:00:00.000Z'));
    await store.save(record('newer', 'failed', '2026-11-21T10:00:00.000Z'));
    // Act
    const reopened = await BuildStore.open(directory);
    // Assess
    expect(reopened.all().map((r) => [r.id, r.state])).toEqual([['newer', 'failed'], ['older', 'succeeded']]);
    expect((await readdir(directory)).sort()).toEqual(['newer.json', 'older.json']);
  });

  it('marks builds that were running or queued when the farm stopped as interrupted', async () => {
    // Prepare
    const store = await BuildStore.open(directory);
    await store.save(record('cut-off', 'running', '2026-11-20T10:00:00.000Z'));
    await store.save(record('waiting', 'queued', '2026-11-20T10:01:00.000Z'));
    await store.save(record('done', 'succeeded', '2026-11-20T10:02:00.000Z'));
    // Act
    const reopened = await BuildStore.open(directory, () => new Date('2026-11-20T11:00:00.000Z'));
    // Assess
    const cutOff = reopened.get('cut-off')!;
    expect(cutOff.state).toBe('interrupted');
    expect(cutOff.finishedAt).toBe('2026-11-20T11:00:00.000Z');
    expect(cutOff.stages.map((s) => s.status)).toEqual(['succeeded', 'cancelled']);
    expect(reopened.get('waiting')!.state).toBe('interrupted');
    expect(reopened.get('done')!.state).toBe('succeeded');
    expect(reopened.interruptedAtOpen.sort()).toEqual(['cut-off', 'waiting']);
    // ...and the change is on disk too.
    expect((await BuildStore.open(directory)).get('cut-off')!.state).toBe('interrupted');
  });

  it('writes the last of several quick saves of one build', async () => {
    // Prepare
    const store = await BuildStore.open(directory);
    const build = record('busy', 'queued', '2026-11-20T10:00:00.000Z');
    // Act
    const saves = (['running', 'failed'] as const).map((state) => {
      build.state = state;
      return store.save(build);
    });
    await Promise.all(saves);
    // Assess
    expect((await BuildStore.open(directory)).get('busy')!.state).toBe('failed');
  });
});
