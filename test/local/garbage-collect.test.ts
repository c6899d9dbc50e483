import { deletePrefix } from '../../functions/adapters/local/delete-prefix.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import { main } from '../../functions/cli/main.js';
import { executionName } from '../../functions/domain/webhook/execution-name.js';
import type { BuildRecord } from '../../functions/local/build-record.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { collectGarbage } from '../../functions/local/garbage-collect.js';
import { buildsToRemove } from '../../functions/local/retention.js';
import { pushRequest, startTestFarm } from './support/test-farm.js';

const NOW = new Date('2026-11-30T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();

function record(id: string, state: BuildRecord['state'], age: number, request = pushRequest()): BuildRecord {
  return { id, request, state, queuedAt: daysAgo(age), finishedAt: state === 'running' ? undefined : daysAgo(age), stages: [] };
}

describe('Function: buildsToRemove', () => {
  it('lets go of finished builds older than keepDays beyond the newest keepBuilds; never running ones', () => {
    // Prepare
    const records = [record('new', 'succeeded', 1), record('old-a', 'failed', 40), record('old-b', 'succeeded', 50), record('old-running', 'running', 60)];
    // Act / Assess
    expect(buildsToRemove(records, NOW, { keepDays: 30, keepBuilds: 1 })).toEqual(['old-b', 'old-a']);
    expect(buildsToRemove(records, NOW, { keepDays: 30, keepBuilds: 2 })).toEqual(['old-b']);
    expect(buildsToRemove(records, NOW, { keepDays: 60, keepBuilds: 0 })).toEqual([]);
  });
});

describe('Function: collectGarbage (a real data directory: embedded S3, records, bus)', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gc-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('removes an old build\'s objects, record and messages, keeps history and recent builds, and a restart does not rebuild it', async () => {
    // Prepare
    const oldRequest = pushRequest();
    const newRequest = pushRequest();
    const oldId = executionName(oldRequest.deliveryId, oldRequest.repository);
    const newId = executionName(newRequest.deliveryId, newRequest.repository);
    const store = await BuildStore.open(join(directory, 'builds'));
    await store.save(record(oldId, 'succeeded', 45, oldRequest));
    await store.save(record(newId, 'succeeded', 2, newRequest));
    await store.flush();
    const bus = await LocalBus.open({ file: join(directory, 'bus', 'messages.jsonl') });
    for (const request of [oldRequest, newRequest]) await bus.publish('BuildRequests', JSON.stringify(request));
    await bus.publish('BuildReports', JSON.stringify({ buildId: oldId, status: 'succeeded' }));
    const s3 = await startEmbeddedS3(join(directory, 's3'));
    await s3.store.put(`builds/${oldId}/stages/build/log.txt`, 'old log');
    await s3.store.put(`builds/${oldId}/report.json`, '{}');
    await s3.store.put(`builds/${newId}/report.json`, '{}');
    await s3.store.put('history/octo-org/hello-farm/build.json', '{}');
    const deadPid = spawnSync('true').pid!;
    mkdirSync(join(directory, 'work', 'lambda', `sandbox-${deadPid}-0`, 'work'), { recursive: true });
    mkdirSync(join(directory, 'work', 'lambda', `sandbox-${process.pid}-0`), { recursive: true });
    // Artifacts a `buildfarm run` that died moved out of a stage for its export, and a live one's.
    mkdirSync(join(directory, 'work', 'export', `export-${deadPid}-3`, 'node_modules'), { recursive: true });
    mkdirSync(join(directory, 'work', 'export', `export-${process.pid}-3`), { recursive: true });
    mkdirSync(join(directory, 'work', 'retired', `retired-${deadPid}-4`, 'workspace'), { recursive: true });
    // Act
    const outcome = await collectGarbage({ store, bus, deleteObjects: (prefix) => deletePrefix(s3.client, s3.bucket, prefix), workRoot: join(directory, 'work'), now: NOW, policy: { keepDays: 30, keepBuilds: 1 } });
    const left: string[] = [];
    for await (const object of s3.store.list('')) left.push(object.key);
    await s3.close();
    // Assess
    expect(outcome).toMatchObject({ builds: [oldId], objects: 2, messages: 2 });
    expect(left.sort()).toEqual([`builds/${newId}/report.json`, 'history/octo-org/hello-farm/build.json']);
    expect(store.has(oldId)).toBe(false);
    expect(existsSync(join(directory, 'builds', `${oldId}.json`))).toBe(false);
    expect(existsSync(join(directory, 'work', 'lambda', `sandbox-${deadPid}-0`))).toBe(false);
    expect(existsSync(join(directory, 'work', 'lambda', `sandbox-${process.pid}-0`))).toBe(true);
    expect(existsSync(join(directory, 'work', 'export', `export-${deadPid}-3`))).toBe(false);
    expect(existsSync(join(directory, 'work', 'export', `export-${process.pid}-3`))).toBe(true);
    expect(existsSync(join(directory, 'work', 'retired', `retired-${deadPid}-4`))).toBe(false);
    // The recovery at the next start replays the bus: the collected build must not come back.
    const farm = await startTestFarm({ directory });
    try {
      expect(farm.recovery.replayed).toEqual([]);
      expect(farm.farm.get(oldId)).toBeUndefined();
    } finally {
      await farm.close();
    }
  });
});

class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.text += chunk.toString();
    callback();
  }
}

describe('buildfarm gc', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'gc-cli-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('refuses while a buildfarm serve holds the data directory, naming its pid', async () => {
    // Prepare: a live process named in serve.pid
    const holder = spawn('sleep', ['30']);
    writeFileSync(join(directory, 'serve.pid'), `${holder.pid}\n`);
    const stdout = new Captured();
    const stderr = new Captured();
    try {
      // Act
      const code = await main(['gc', '--data-dir', directory], { stdout, stderr, cwd: directory, env: {} });
      // Assess
      expect(code).toBe(1);
      expect(stderr.text).toContain(`served by buildfarm serve (pid ${holder.pid})`);
    } finally {
      holder.kill();
    }
  });

  it('names a bad --keep-days and what it takes', async () => {
    const stderr = new Captured();
    const code = await main(['gc', '--data-dir', directory, '--keep-days', 'soon'], { stdout: new Captured(), stderr, cwd: directory, env: {} });
    expect(code).toBe(1);
    expect(stderr.text).toContain('--keep-days (BUILDFARM_KEEP_DAYS): "soon" is not a whole number of 0 or more');
  });

  it('--dry-run lists what would go and removes nothing', async () => {
    // Prepare
    const store = await BuildStore.open(join(directory, 'builds'));
    await store.save(record('ancient', 'succeeded', 400));
    await store.flush();
    const stdout = new Captured();
    // Act
    const code = await main(['gc', '--data-dir', directory, '--keep-builds', '0', '--dry-run'], { stdout, stderr: new Captured(), cwd: directory, env: {} });
    // Assess
    expect(code).toBe(0);
    expect(stdout.text).toContain('would remove 1 build');
    expect(stdout.text).toContain('  ancient');
    expect(existsSync(join(directory, 'builds', 'ancient.json'))).toBe(true);
  });
});
