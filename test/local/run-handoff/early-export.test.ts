/**
 * A handed-over build's plain files copied while it runs (early-export.ts, build-files.ts's
 * PartialExport), against s3rver: the ETags that decide what the last pass copies again are the
 * real server's, not ours.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { exportBuildFiles, type PartialExport } from '../../../functions/local/build-files.js';
import { EarlyExport } from '../../../functions/local/run-handoff/early-export.js';
import type { StageResult } from '../../../functions/domain/report/types.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';

let s3: RunningS3rver;
let store: S3ArtifactStore;
let root: string;

beforeAll(async () => {
  s3 = await startS3rver();
  store = new S3ArtifactStore(s3.client, s3.bucket);
  root = await mkdtemp(join(tmpdir(), 'early-export-'));
});

afterAll(async () => {
  await s3.stop();
  await rm(root, { recursive: true, force: true });
});

describe('Function: exportBuildFiles, in parts', () => {
  it('copies only the folder asked for, then at the end only what is new or changed since', async () => {
    // Prepare
    const builds = join(root, 'parts');
    await store.put('builds/b1/plan.json', '{"plan":1}');
    await store.put('builds/b1/stages/lint/log.txt', 'lint, first run');
    await store.put('builds/b1/stages/test/log.txt', 'test log');
    const done = new Map<string, string>();
    // Act: the lint stage's folder, then lint run again and the report written, then the last pass.
    const first = await exportBuildFiles(store, 'b1', builds, { part: { under: 'stages/lint/', done } });
    await store.put('builds/b1/stages/lint/log.txt', 'lint, second run');
    await store.put('builds/b1/report.json', '{"status":"succeeded"}');
    const last = await exportBuildFiles(store, 'b1', builds, { part: { done } });
    // Assess
    expect(first.files).toBe(1);
    expect(last.files).toBe(4); // the plan, test's log, the report, and lint's log again (changed); nothing twice
    expect(await readFile(join(builds, 'b1/stages/lint/log.txt'), 'utf8')).toBe('lint, second run');
    expect(await readFile(join(builds, 'b1/report.json'), 'utf8')).toBe('{"status":"succeeded"}');
    expect((await readdir(join(builds, 'b1'))).sort()).toEqual(['plan.json', 'report.json', 'stages']);
    expect([...done.keys()].sort()).toEqual(['builds/b1/plan.json', 'builds/b1/report.json', 'builds/b1/stages/lint/log.txt', 'builds/b1/stages/test/log.txt']);
  });
});

describe('Class: EarlyExport', () => {
  it('copies at planned and at each finished stage, one pass at a time, and its last pass waits for them', async () => {
    // Prepare: an export that records its parts and takes a while each.
    const calls: string[] = [];
    let running = 0;
    let overlapped = false;
    const exportFiles = async (_id: string, part?: PartialExport) => {
      const name = part?.under ?? 'all';
      running += 1;
      overlapped ||= running > 1;
      calls.push(`start ${name}`);
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (name === 'stages/lint/') throw new Error('s3rver hiccup');
        calls.push(`end ${name}`);
        return '/data/builds/b1';
      } finally {
        running -= 1;
      }
    };
    const early = new EarlyExport(exportFiles, async () => undefined, 'b1');
    // Act
    early.progress.planned({} as never);
    early.progress.stageFinished({ stage: 'lint' } as StageResult);
    early.progress.stageFinished({ stage: 'test' } as StageResult);
    const folder = await early.finish();
    // Assess: a failed pass does not stop the others; the last pass is over everything.
    expect(folder).toBe('/data/builds/b1');
    expect(overlapped).toBe(false);
    expect(calls).toEqual(['start ', 'end ', 'start stages/lint/', 'start stages/test/', 'end stages/test/', 'start all', 'end all']);
  });
});

describe('Class: EarlyExport, after the report is published', () => {
  const recordingExport = (calls: string[], failing?: string) => async (_id: string, part?: PartialExport) => {
    const name = part?.under ?? 'all';
    calls.push(name);
    if (name === failing) throw new Error('s3rver hiccup');
    return '/data/builds/b1';
  };

  it('lists nothing again at the end once the pass started by the publication copied everything', async () => {
    // Prepare
    const calls: string[] = [];
    const early = new EarlyExport(recordingExport(calls), async () => undefined, 'b1');
    // Act
    early.progress.stageFinished({ stage: 'lint' } as StageResult);
    early.reportPublished();
    const folder = await early.finish();
    // Assess: no `all` pass after the publication's pass over everything ('').
    expect(folder).toBe('/data/builds/b1');
    expect(calls).toEqual(['stages/lint/', '']);
  });

  it('still makes the last pass when the publication pass failed', async () => {
    // Prepare: the pass over everything fails once.
    const calls: string[] = [];
    const early = new EarlyExport(recordingExport(calls, ''), async () => undefined, 'b1');
    // Act
    early.reportPublished();
    const folder = await early.finish();
    // Assess
    expect(folder).toBe('/data/builds/b1');
    expect(calls).toEqual(['', 'all']);
  });

  it('still makes the last pass when no report was published (only stage passes ran)', async () => {
    // Prepare
    const calls: string[] = [];
    const early = new EarlyExport(recordingExport(calls), async () => undefined, 'b1');
    // Act
    early.progress.planned({} as never);
    const folder = await early.finish();
    // Assess: the planned pass is also over '' but is no proof that the build's last objects are there.
    expect(folder).toBe('/data/builds/b1');
    expect(calls).toEqual(['', 'all']);
  });
});
