/**
 * What a stage's cache did, in its result and the build report, and the limits the docs
 * state (docs/pipeline-file.md#cache).
 */

/**
 * Largest entry a stage saves: 2 GiB of archive. Above it the save is skipped with a log
 * line (the stage still succeeds). Lambda's /tmp is 10 GiB at most and the archive is
 * written while the cached files still exist, so a bigger entry could not even be made on
 * Lambda; GitHub's per-repository total is 10 GB.
 */
export const MAX_CACHE_ENTRY_BYTES = 2 * 1024 ** 3;

/**
 * Entries expire this many days after they were saved: an S3 lifecycle rule on `caches/`
 * (template.yaml ExpireCaches) and `buildfarm gc` locally. S3 lifecycle counts from the
 * object's creation, not its last use as GitHub's 7-day eviction does: an entry hit every
 * day still goes after 7 days, and the next build saves it again.
 */
export const CACHE_EXPIRY_DAYS = 7;

export type CacheResult = 'hit' | 'fallback' | 'miss';

export interface StageCacheReport {
  /** The key this stage computed (`npm-1a2b3c4d5e6f`). */
  key: string;
  result: CacheResult;
  /** For a hit or a fallback: the entry restored and the branch scope it came from. */
  restoredFrom?: { key: string; branch: string };
  /** Bytes downloaded (the archive). */
  restoredBytes: number;
  /** The entry this stage saved, or absent. */
  saved?: { key: string; branch: string; bytes: number };
  /** Why nothing was saved (an exact hit, a pull request, over the size limit, the stage failed). */
  notSaved?: string;
}

/** One line for logs and the text report: `cache npm-1a2b: fallback from npm-9f8e (main), 12.0 MiB down; saved 12.1 MiB`. */
export function describeCache(report: StageCacheReport): string {
  const from = report.restoredFrom ? ` from ${report.restoredFrom.key} (${report.restoredFrom.branch})` : '';
  const down = report.result === 'miss' ? '' : `, ${formatBytes(report.restoredBytes)} down`;
  const save = report.saved ? `; saved ${formatBytes(report.saved.bytes)} to ${report.saved.branch}` : report.notSaved ? `; not saved: ${report.notSaved}` : '';
  return `cache ${report.key}: ${report.result}${from}${down}${save}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
