/**
 * Undoing a failed cache restore: removes exactly what the restore wrote (the paths the
 * extraction reported, archive/safe-extract.ts `written`), never anything that was there
 * before it. The restore runs after the workspace was prepared, so a cache path such as
 * `packages/*\/dist` may also name an upstream stage's artifact: resolving the cache's paths
 * again on disk would reach it (review F3).
 *
 * Every path is checked to stay inside its root first (no absolute path, no `..`, not the
 * root itself): the extraction only reports such paths, but this removes with `recursive`,
 * so it does not rely on that (review F4, defence in depth).
 */
import { rm } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { isInside } from '../archive/safe-extract.js';

/** Removes `paths` (root-relative, with `/`) under `root`, last written first; returns those it removed. */
export async function removeRestoredPaths(root: string, paths: readonly string[]): Promise<string[]> {
  const base = resolve(root);
  const removed: string[] = [];
  for (const path of [...paths].reverse()) {
    if (!isSafelyInside(base, path)) continue;
    // rm removes a link, never what it points to; `recursive` only matters for a directory the restore created.
    await rm(join(base, ...path.split('/')), { recursive: true, force: true }).catch(() => undefined);
    removed.push(path);
  }
  return removed;
}

/** A root-relative path that names something strictly inside `base`. */
export function isSafelyInside(base: string, path: string): boolean {
  if (path === '' || isAbsolute(path) || path.includes('\0') || path.includes('\\')) return false;
  const segments = path.split('/');
  if (segments.some((segment) => segment === '..')) return false;
  const target = resolve(base, ...segments);
  return target !== base && isInside(base, target);
}
