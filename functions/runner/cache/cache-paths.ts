/**
 * A cache's paths by root: `~/x` is `x` under the stage's HOME, anything else is relative
 * to the workspace (lint-cache.ts has refused absolute paths, `..`, other users' homes).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { KeyFileDigest } from '../../domain/cache/cache-key.js';
import type { CacheRoot } from '../../domain/cache/cache-manifest.js';
import { isInside } from '../archive/index.js';

export function pathsByRoot(paths: readonly string[]): Record<CacheRoot, string[]> {
  const split: Record<CacheRoot, string[]> = { home: [], workspace: [] };
  for (const path of paths) {
    if (path === '~' || path.startsWith('~/')) split.home.push(path.replace(/^~\/*/, ''));
    else split.workspace.push(path);
  }
  return split;
}

/**
 * SHA-256 of each key file, read from the workspace after the snapshot and upstream
 * artifacts are in place. A file that is missing, is not a regular file, or resolves
 * outside the workspace (a link to /etc/passwd) counts as missing.
 */
export async function keyFileDigests(workspace: string, files: readonly string[]): Promise<KeyFileDigest[]> {
  const root = await realpath(workspace);
  return Promise.all(
    files.map(async (path) => {
      const real = await realpath(join(workspace, path)).catch(() => undefined);
      if (real === undefined || !isInside(root, real)) return { path, sha256: null };
      const hash = createHash('sha256');
      try {
        await pipeline(createReadStream(real), hash);
      } catch {
        return { path, sha256: null }; // a directory, or unreadable
      }
      return { path, sha256: hash.digest('hex') };
    }),
  );
}
