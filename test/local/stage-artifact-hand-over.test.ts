/**
 * The hand-over of a finished stage's artifacts to `buildfarm run`'s export: taken only from a
 * bubblewrapped stage that stored an archive, given to the export only while it matches the archive
 * stored for that stage (a later attempt's replaces it), and deleted when nobody takes it.
 */
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactManifest, StageResult } from '../../functions/domain/report/types.js';
import { StageArtifactHandOver } from '../../functions/local/stage-artifact-hand-over.js';
import type { StageSandbox } from '../../functions/runner/sandbox.js';
import { MemoryStore } from '../statemachine/support/memory-store.js';

let root: string;
let store: MemoryStore;
const BUBBLEWRAP = { kind: 'bubblewrap' } as StageSandbox;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'hand-over-'));
  store = new MemoryStore();
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A finished stage's work folder with `out/a.txt`, its manifest stored with archive digest `sha256`. */
async function finishedStage(attempt: string, sha256: string, status: StageResult['status'] = 'succeeded'): Promise<{ result: StageResult; workRoot: string }> {
  const workRoot = join(root, attempt);
  await mkdir(join(workRoot, 'workspace', 'out'), { recursive: true });
  await writeFile(join(workRoot, 'workspace', 'out', 'a.txt'), attempt);
  const manifest: ArtifactManifest = {
    version: 2,
    archive: { key: 'builds/b1/stages/s/artifacts.tar', sha256, bytes: 1, compression: 'none' },
    artifacts: [{ path: 'out/a.txt', size: attempt.length, mode: 0o644, type: 'file' }],
  };
  await store.put('builds/b1/stages/s/manifest.json', JSON.stringify(manifest));
  return { workRoot, result: { buildId: 'b1', stage: 's', status, manifestKey: 'builds/b1/stages/s/manifest.json', artifactCount: 1 } as StageResult };
}

describe('Class: StageArtifactHandOver', () => {
  it('takes nothing from a stage that ran without bubblewrap (a process of it may still write)', async () => {
    const handOver = new StageArtifactHandOver({ workRoot: join(root, 'farm'), store, sandbox: { kind: 'none', reason: 'off' } as StageSandbox });
    const { result, workRoot } = await finishedStage('first', 'aa');
    await handOver.handOver(result, workRoot);
    expect(handOver.takeMoved('b1', 's', 'aa')).toBeUndefined();
    expect(handOver.notMoved.get('b1/s')).toMatch(/without the bubblewrap sandbox/);
    expect((await lstat(join(workRoot, 'workspace', 'out', 'a.txt'))).isFile()).toBe(true);
  });

  it('takes nothing from a stage that failed', async () => {
    const handOver = new StageArtifactHandOver({ workRoot: join(root, 'farm'), store, sandbox: BUBBLEWRAP });
    const { result, workRoot } = await finishedStage('first', 'aa', 'failed');
    await handOver.handOver(result, workRoot);
    expect(handOver.takeMoved('b1', 's', 'aa')).toBeUndefined();
  });

  it('gives the moved folder only for the archive now stored; a later attempt replaces the earlier one', async () => {
    // Prepare
    const handOver = new StageArtifactHandOver({ workRoot: join(root, 'farm'), store, sandbox: BUBBLEWRAP });
    const first = await finishedStage('first', 'aa');
    await handOver.handOver(first.result, first.workRoot);
    const second = await finishedStage('second', 'bb');
    await handOver.handOver(second.result, second.workRoot);
    // Act
    const stale = handOver.takeMoved('b1', 's', 'aa');
    const current = handOver.takeMoved('b1', 's', 'bb');
    // Assess
    expect(stale).toBeUndefined();
    expect(current?.entries).toBe(1);
    expect((await lstat(join(current!.directory, 'out', 'a.txt'))).size).toBe('second'.length);
    expect(handOver.takeMoved('b1', 's', 'bb')).toBeUndefined();
    // The first attempt's folder is gone.
    expect(await readdir(join(root, 'farm', 'export'))).toEqual([current!.directory.split('/').pop()]);
  });

  it('deletes the folders nobody took', async () => {
    const handOver = new StageArtifactHandOver({ workRoot: join(root, 'farm'), store, sandbox: BUBBLEWRAP });
    const { result, workRoot } = await finishedStage('first', 'aa');
    await handOver.handOver(result, workRoot);
    await handOver.discard();
    expect(handOver.takeMoved('b1', 's', 'aa')).toBeUndefined();
    expect(await readdir(join(root, 'farm', 'export'))).toEqual([]);
  });
});
