import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { diskUsageBytes, walkBytes } from '../../functions/runner/disk-usage.js';

describe('Function: diskUsageBytes', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'du-'));
    await mkdir(join(root, 'a/b'), { recursive: true });
    await writeFile(join(root, 'a/b/one.bin'), Buffer.alloc(3 * 1024 * 1024, 1));
    await writeFile(join(root, 'two.bin'), Buffer.alloc(1024 * 1024, 1));
    await symlink('/usr', join(root, 'usr-link'));
    // A sparse file allocates (almost) nothing: quotas count blocks, not sizes.
    execFileSync('truncate', ['-s', '500M', join(root, 'sparse.bin')]);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('counts allocated space of the whole tree, not link targets or sparse holes', async () => {
    // Act
    const used = await diskUsageBytes(root);
    // Assess
    expect(used).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    expect(used).toBeLessThan(6 * 1024 * 1024);
  });

  it('walks the tree to the same total when du is not there', async () => {
    // Act
    const walked = await walkBytes(root);
    // Assess
    expect(Math.abs(walked - (await diskUsageBytes(root)))).toBeLessThanOrEqual(64 * 1024);
  });
});
