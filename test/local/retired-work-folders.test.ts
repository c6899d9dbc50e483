/**
 * A finished stage's work folder leaves its path at once (one rename), is handed over in the
 * background and deleted when the build ends (`idle()`): the build ends with no stage folder left.
 */
import { lstat, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StageResult } from '../../functions/domain/report/types.js';
import { RetiredWorkFolders } from '../../functions/local/retired-work-folders.js';
import type { StageArtifactHandOver } from '../../functions/local/stage-artifact-hand-over.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'retired-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function workFolder(name: string): Promise<string> {
  const folder = join(root, 'lambda', name);
  await mkdir(join(folder, 'workspace', 'node_modules', 'a'), { recursive: true });
  for (let i = 0; i < 50; i++) await writeFile(join(folder, 'workspace', 'node_modules', 'a', `${i}.js`), 'x');
  return folder;
}

describe('Class: RetiredWorkFolders', () => {
  it('frees the path at once, hands the folder over before deleting it, and idle() waits for both', async () => {
    // Prepare: a hand-over that sees the folder's files and is slow
    const seen: string[] = [];
    const handOver = {
      handOver: async (result: StageResult, folder: string) => {
        seen.push(`${result.stage}:${(await readdir(join(folder, 'workspace', 'node_modules', 'a'))).length}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      },
    } as unknown as StageArtifactHandOver;
    const retired = new RetiredWorkFolders(root, handOver);
    const folder = await workFolder('sandbox-1-0');
    // Act
    await retired.retire(folder, { stage: 'install' } as StageResult);
    // Assess: the stage's path is free before the background work ends
    await expect(lstat(folder)).rejects.toMatchObject({ code: 'ENOENT' });
    await retired.idle();
    expect(seen).toEqual(['install:50']);
    // Deleted by an `rm` of its own, started by idle() and not awaited (it outlives a `run` that exits).
    await expect.poll(async () => readdir(join(root, 'retired'))).toEqual([]);
  });

  it('keeps retired folders until idle(): no deletion while later stages create their files', async () => {
    // Why: on an ext4 without a journal, files created soon after many were deleted cost several
    // times more (docs/performance.md); deleting one stage's node_modules while the next unpacks
    // its own slowed the express build by seconds.
    const handed: string[] = [];
    const handOver = { handOver: async (result: StageResult) => void handed.push(result.stage) } as unknown as StageArtifactHandOver;
    const retired = new RetiredWorkFolders(root, handOver);
    await retired.retire(await workFolder('sandbox-1-0'), { stage: 'install' } as StageResult);
    await retired.retire(await workFolder('sandbox-1-1'), { stage: 'lint' } as StageResult);
    // Assess: handed over in the background, yet both still on disk
    await expect.poll(() => handed.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await readdir(join(root, 'retired'))).toHaveLength(2);
    // Act: the build ends
    await retired.idle();
    await expect.poll(async () => readdir(join(root, 'retired'))).toEqual([]);
  });

  it('deletes at once a folder retired after idle() (a stopped build whose stage ends late): nothing left behind', async () => {
    const retired = new RetiredWorkFolders(root);
    await retired.idle();
    await retired.retire(await workFolder('sandbox-2-0'));
    await expect.poll(async () => readdir(join(root, 'retired'))).toEqual([]);
  });

  it('deletes without a hand-over when there is no result (the stage threw)', async () => {
    const retired = new RetiredWorkFolders(root);
    const folder = await workFolder('task-1-0');
    await retired.retire(folder);
    await retired.idle();
    await expect(lstat(folder)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect.poll(async () => readdir(join(root, 'retired'))).toEqual([]);
  });

  it('deletes in place, before returning, when the folder cannot be renamed away', async () => {
    // Prepare: the retired folder's parent is a file, so the rename fails
    await writeFile(join(root, 'retired'), 'in the way');
    const retired = new RetiredWorkFolders(root);
    const folder = await workFolder('sandbox-1-1');
    // Act
    await retired.retire(folder);
    // Assess: already gone, nothing pending
    await expect(lstat(folder)).rejects.toMatchObject({ code: 'ENOENT' });
    await retired.idle();
  });
});
