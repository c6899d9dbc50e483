/**
 * What the local farm keeps, and what `buildfarm gc` (and `serve` at start) may
 * remove: a finished build older than `keepDays` that is not among the newest
 * `keepBuilds` builds. Running and queued builds are never removed, nor is the
 * planner's stage history (`history/` in the embedded S3), the webhook secret,
 * the secrets file or the demo repository. Dependency caches (`caches/`) go
 * CACHE_EXPIRY_DAYS after they were saved, as the S3 lifecycle rule does on AWS.
 */
import { CACHE_EXPIRY_DAYS } from '../domain/cache/cache-report.js';
import { UserError } from '../domain/errors.js';
import type { StoredObject } from '../ports/artifact-store.js';
import { isFinal, type BuildRecord } from './build-record.js';

export interface RetentionPolicy {
  /** Finished builds younger than this are kept (days). */
  keepDays: number;
  /** The newest this many builds are kept whatever their age. */
  keepBuilds: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { keepDays: 30, keepBuilds: 50 };

const DAY_MS = 24 * 60 * 60 * 1000;

/** The ids of the builds the policy lets go, oldest first. */
export function buildsToRemove(records: readonly BuildRecord[], now: Date, policy: RetentionPolicy): string[] {
  const newestFirst = [...records].sort((a, b) => b.queuedAt.localeCompare(a.queuedAt) || b.id.localeCompare(a.id));
  const cutoff = now.getTime() - policy.keepDays * DAY_MS;
  return newestFirst
    .slice(policy.keepBuilds)
    .filter((record) => isFinal(record.state) && Date.parse(record.finishedAt ?? record.queuedAt) < cutoff)
    .map((record) => record.id)
    .reverse();
}

/**
 * Cache objects saved more than CACHE_EXPIRY_DAYS ago (template.yaml ExpireCaches does the
 * same on AWS). An object whose time is unknown is kept.
 */
export function expiredCacheObjects(objects: readonly StoredObject[], now: Date, days = CACHE_EXPIRY_DAYS): string[] {
  const cutoff = now.getTime() - days * DAY_MS;
  return objects.filter((object) => object.lastModified !== undefined && object.lastModified.getTime() < cutoff).map((object) => object.key);
}

/** Reads `--keep-days` / `--keep-builds` (or their variables), with errors that name them. */
export function retentionFrom(values: { 'keep-days'?: string; 'keep-builds'?: string }, env: NodeJS.ProcessEnv): RetentionPolicy {
  return {
    keepDays: count(values['keep-days'] ?? env.BUILDFARM_KEEP_DAYS, '--keep-days (BUILDFARM_KEEP_DAYS)', DEFAULT_RETENTION.keepDays),
    keepBuilds: count(values['keep-builds'] ?? env.BUILDFARM_KEEP_BUILDS, '--keep-builds (BUILDFARM_KEEP_BUILDS)', DEFAULT_RETENTION.keepBuilds),
  };
}

export class InvalidRetention extends UserError {
  override readonly name = 'InvalidRetention';
}

function count(text: string | undefined, what: string, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new InvalidRetention(`${what}: "${text}" is not a whole number of 0 or more`);
  return value;
}
