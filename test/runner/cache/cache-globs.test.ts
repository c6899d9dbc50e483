/**
 * Cache paths with globs resolved under a root: what matches, what is never walked (links),
 * and how far the walk goes.
 */
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isCacheGlob, resolveCachePaths } from '../../../functions/runner/cache/cache-globs.js';
import { removeRestoredPaths } from '../../../functions/runner/cache/remove-restored.js';

describe('Function: resolveCachePaths', () => {
  let root: string;
  let outside: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'cache-globs-'));
    outside = await mkdtemp(join(tmpdir(), 'cache-globs-outside-'));
    for (const dir of ['packages/a/node_modules/x/node_modules/y', 'packages/b/node_modules', 'packages/c/src', 'apps/web/.turbo/cache', '.cache/pip/wheels', '.cache/pip/http', '.cache/poetry/wheels']) {
      await mkdir(join(root, dir), { recursive: true });
    }
    await writeFile(join(root, 'packages/a/node_modules/x/index.js'), 'x\n');
    await writeFile(join(outside, 'secret'), 'secret\n');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
    await rm(outside, { recursive: true, force: true });
  });

  it('keeps plain paths as written (even missing ones) and resolves globs to what they match, in order, each once', async () => {
    // Act
    const paths = await resolveCachePaths(root, ['.npm', 'packages/*/node_modules', '.cache/*/wheels', 'packages/a/node_modules/']);

    // Assess
    expect(paths).toEqual(['.npm', 'packages/a/node_modules', 'packages/b/node_modules', '.cache/pip/wheels', '.cache/poetry/wheels']);
  });

  it('stops at a matched directory (it is kept whole) and matches at any depth with **', async () => {
    expect(await resolveCachePaths(root, ['**/node_modules'])).toEqual(['packages/a/node_modules', 'packages/b/node_modules']);
    expect(await resolveCachePaths(root, ['**/.turbo', '.cache/{pip,yarn}'])).toEqual(['apps/web/.turbo', '.cache/pip']);
  });

  it('matches a link as a link and never walks through one, inside or out', async () => {
    // Prepare
    await symlink(outside, join(root, 'packages', 'escape'));
    await symlink(join(root, 'packages'), join(root, 'mirror'));
    await mkdir(join(root, '.config'));
    await symlink(outside, join(root, '.config', 'tool'));

    // Act, Assess: the links themselves match (packing then refuses the one that leaves); nothing under them is listed
    expect(await resolveCachePaths(root, ['packages/*'])).toEqual(['packages/a', 'packages/b', 'packages/c', 'packages/escape']);
    expect(await resolveCachePaths(root, ['**/secret', 'mirror/*/node_modules', '.config/tool/*'])).toEqual([]);
  });

  it('matches and removes nothing outside the root, even for `..` and absolute paths that lint would have refused', async () => {
    // Prepare: a root with a sibling directory beside it (the runner's functions called directly, no lint)
    const parent = await mkdtemp(join(tmpdir(), 'cache-globs-parent-'));
    try {
      const inside = join(parent, 'root');
      await mkdir(join(inside, 'dist'), { recursive: true });
      await writeFile(join(inside, 'dist/own.js'), 'own\n');
      await mkdir(join(parent, 'sibling'));
      await writeFile(join(parent, 'sibling/keep.txt'), 'keep\n');

      // Act, Assess: globs whose base climbs out, or starts at /, match nothing
      expect(await resolveCachePaths(inside, ['../*'])).toEqual([]);
      expect(await resolveCachePaths(inside, ['../sibling/*', 'dist/../../*', `${parent}/*`])).toEqual([]);

      // Act: the clean-up of a failed restore handed paths that leave the root (and the root itself)
      const removed = await removeRestoredPaths(inside, ['../sibling', '../sibling/keep.txt', 'dist/../../sibling', join(parent, 'sibling'), '', '.', 'dist/own.js']);

      // Assess: only the path inside was removed; the sibling and the root are untouched
      expect(removed).toEqual(['dist/own.js']);
      expect(await readFile(join(parent, 'sibling/keep.txt'), 'utf8')).toBe('keep\n');
      expect(await readdir(parent)).toEqual(['root', 'sibling']);
      expect(await readdir(join(inside, 'dist'))).toEqual([]);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  });

  it('tells globs from plain paths', () => {
    expect(['~/.npm', '.gradle/caches', 'a b'].map(isCacheGlob)).toEqual([false, false, false]);
    expect(['*.x', 'a/**/b', '{a,b}', 'a?', '[ab]'].map(isCacheGlob)).toEqual([true, true, true, true, true]);
  });
});
