import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exportBuildFiles } from '../../functions/local/build-files.js';
import { MemoryArtifactStore } from './support/memory-artifact-store.js';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'build-files-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('Function: exportBuildFiles', () => {
  it("writes nothing outside the build's folder for a stored key that climbs out of it, an archive's as any other", async () => {
    // Prepare: the embedded S3 answers anyone on the loopback with its well-known keys; the farm's
    // writers never make such keys, but whatever is listed under the build's prefix is read here.
    const store = new MemoryArtifactStore();
    const climbing = 'builds/b1/stages/../../../escaped';
    await store.put(`${climbing}/manifest.json`, JSON.stringify({ artifacts: [], archive: { sha256: '0'.repeat(64), bytes: 3, compression: 'none' } }));
    await store.put(`${climbing}/artifacts.tar`, 'tar');
    await store.put('builds/b1/stages/../../../escaped-log.txt', 'log');
    await store.put('builds/b1/stages/lint/log.txt', 'lint log');
    const builds = join(root, 'data', 'builds');
    // Act
    const { files } = await exportBuildFiles(store, 'b1', builds);
    // Assess: the build's own file is there, and nothing was made beside the build's folder.
    expect(files).toBe(1);
    expect(await readdir(root)).toEqual(['data']);
    expect(await readdir(join(root, 'data'))).toEqual(['builds']);
    expect(await readdir(builds)).toEqual(['b1']);
  });
});
