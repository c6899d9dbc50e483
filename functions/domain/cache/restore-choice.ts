import type { CacheKey } from './cache-key.js';
import { CACHE_ENTRY_SUFFIX } from './cache-keys.js';

/**
 * Which entry a stage restores, GitHub Actions' order
 * (https://docs.github.com/en/actions/using-workflows/caching-dependencies-to-speed-up-workflows#matching-a-cache-key):
 * scope by scope (own branch, then a pull request's base), the exact key first, then the
 * newest entry with the same prefix. Pure: the runner lists each scope's family prefix and
 * passes what it found.
 */

export interface ListedEntry {
  /** The full object key. */
  key: string;
  size: number;
  lastModified?: Date;
}

export interface ScopeListing {
  branch: string;
  /** `cacheFamilyPrefix(repository, branch, prefix)` */
  familyPrefix: string;
  entries: readonly ListedEntry[];
}

export type RestoreChoice =
  | { result: 'miss' }
  | { result: 'hit' | 'fallback'; branch: string; objectKey: string; size: number; hash: string };

export function chooseRestore(key: CacheKey, scopes: readonly ScopeListing[]): RestoreChoice {
  for (const scope of scopes) {
    const entries = scope.entries.filter((entry) => entryHash(scope.familyPrefix, entry.key) !== undefined);
    const exact = entries.find((entry) => entryHash(scope.familyPrefix, entry.key) === key.hash);
    if (exact) return { result: 'hit', branch: scope.branch, objectKey: exact.key, size: exact.size, hash: key.hash };
    const newest = [...entries].sort((a, b) => (b.lastModified?.getTime() ?? 0) - (a.lastModified?.getTime() ?? 0) || b.key.localeCompare(a.key))[0];
    if (newest) return { result: 'fallback', branch: scope.branch, objectKey: newest.key, size: newest.size, hash: entryHash(scope.familyPrefix, newest.key)! };
  }
  return { result: 'miss' };
}

/** The hash of an entry directly under the family prefix, or undefined for anything else. */
function entryHash(familyPrefix: string, objectKey: string): string | undefined {
  if (!objectKey.startsWith(familyPrefix) || !objectKey.endsWith(CACHE_ENTRY_SUFFIX)) return undefined;
  const hash = objectKey.slice(familyPrefix.length, -CACHE_ENTRY_SUFFIX.length);
  return /^[0-9a-f]{64}$/.test(hash) ? hash : undefined;
}
