/**
 * Saving a stage's dependency cache after its commands succeeded: each root's paths
 * (globs resolved: cache-globs.ts) packed as one archive (runner/archive), uploaded beside the key, then the manifest,
 * which makes the entry visible to restores. Skipped, with the reason in the log and the
 * report (never a failure): after an exact hit (nothing new to keep), when the build may
 * not write (a pull request or a fork: domain/cache/scope.ts), and above the size limit.
 */
import { cacheEntryKey } from '../../domain/cache/cache-keys.js';
import { cachePartKey, type CacheManifest, type CachePart, type CacheRoot } from '../../domain/cache/cache-manifest.js';
import { describeCache, formatBytes, MAX_CACHE_ENTRY_BYTES, type StageCacheReport } from '../../domain/cache/cache-report.js';
import { listArchiveEntries, packArchive, type ArchiveEntry } from '../archive/index.js';
import { resolveCachePaths } from './cache-globs.js';
import { pathsByRoot } from './cache-paths.js';
import type { CacheContext, RestoredCache } from './restore-cache.js';

export interface SaveOptions {
  /** Entries above this many archive bytes are not saved (default MAX_CACHE_ENTRY_BYTES). */
  maxEntryBytes?: number;
}

export async function saveCache(context: CacheContext, restored: RestoredCache, options: SaveOptions = {}): Promise<StageCacheReport> {
  const report = { ...restored.report };
  const skip = (reason: string): StageCacheReport => {
    report.notSaved = reason;
    context.log.line(`== ${describeCache(report)}`);
    return report;
  };
  if (restored.report.result === 'hit') return skip('the key was an exact hit');
  const branch = context.scope.write;
  if (branch === undefined) return skip('pull requests and forks never write caches');
  const limit = options.maxEntryBytes ?? MAX_CACHE_ENTRY_BYTES;
  try {
    const split = pathsByRoot(context.spec.paths);
    const listed: { root: CacheRoot; entries: ArchiveEntry[] }[] = [];
    for (const root of ['home', 'workspace'] as const) {
      if (split[root].length === 0) continue;
      const paths = await resolveCachePaths(context.roots[root], split[root]);
      const entries = await listArchiveEntries(context.roots[root], paths, { rootLabel: root === 'home' ? 'HOME' : 'the workspace' });
      if (entries.length > 0) listed.push({ root, entries });
    }
    if (listed.length === 0) return skip(`none of ${context.spec.paths.join(', ')} exists`);
    const contentBytes = listed.reduce((sum, part) => sum + part.entries.reduce((bytes, entry) => bytes + entry.size, 0), 0);
    if (contentBytes > limit) return skip(`${formatBytes(contentBytes)} is over the ${formatBytes(limit)} limit per entry`);

    const manifestKey = cacheEntryKey(context.scope.repository, branch, context.spec.prefix, restored.key.hash);
    const parts: CachePart[] = [];
    for (const { root, entries } of listed) {
      const { stream, packed } = packArchive(context.roots[root], entries);
      await context.store.put(cachePartKey(manifestKey, root), stream, 'application/x-tar');
      const digest = await packed;
      parts.push({ root, sha256: digest.sha256, bytes: digest.bytes, compression: digest.compression, entries: entries.length });
    }
    const manifest: CacheManifest = { version: 1, key: restored.key.label, paths: context.spec.paths, parts, savedBy: { buildId: context.buildId, stage: context.stage } };
    // Last: a restore lists manifests only, so it never sees an entry whose archives are still uploading.
    await context.store.put(manifestKey, JSON.stringify(manifest), 'application/json');
    report.saved = { key: restored.key.label, branch, bytes: parts.reduce((sum, part) => sum + part.bytes, 0) };
    context.log.line(`== ${describeCache(report)}`);
    return report;
  } catch (error) {
    context.log.line(`warning: cache ${restored.key.label} was not saved: ${(error as Error).message}`);
    return skip(`saving failed: ${(error as Error).message}`);
  }
}
