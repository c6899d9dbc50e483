import { createHash } from 'node:crypto';
import type { CacheSpec } from '../pipeline/types.js';

/**
 * The key of a cache entry: the prefix plus a hash of the key files' contents. The
 * runner reads the files (from the workspace, after the snapshot and upstream artifacts
 * are in place) and passes each one's SHA-256; a missing file counts as missing, so
 * creating it changes the key. The paths kept and the format version are hashed too:
 * changing `paths:` must not restore an entry that holds other directories (GitHub
 * folds paths into its cache "version" for the same reason).
 */

/** Bumped when the archive layout changes, so no runner restores an entry it cannot read. */
export const CACHE_FORMAT_VERSION = 1;

export interface KeyFileDigest {
  /** As written in `key.files`. */
  path: string;
  /** SHA-256 hex of the contents, or null when the file does not exist. */
  sha256: string | null;
}

export interface CacheKey {
  prefix: string;
  /** 64 hex digits: the S3 object's name (storage in cache-keys.ts). */
  hash: string;
  /** What the log and the report show: `npm-1a2b3c4d5e6f`. */
  label: string;
}

export function cacheKey(spec: Pick<CacheSpec, 'paths' | 'prefix'>, files: readonly KeyFileDigest[]): CacheKey {
  const hash = createHash('sha256');
  hash.update(`buildfarm-cache v${CACHE_FORMAT_VERSION}\n`);
  for (const path of spec.paths) hash.update(`path ${JSON.stringify(path)}\n`);
  for (const file of files) hash.update(`file ${JSON.stringify(file.path)} ${file.sha256 ?? 'missing'}\n`);
  const hex = hash.digest('hex');
  return { prefix: spec.prefix, hash: hex, label: cacheLabel(spec.prefix, hex) };
}

/** `npm-1a2b3c4d5e6f`: the prefix and the hash's first 12 hex digits. */
export function cacheLabel(prefix: string, hash: string): string {
  return `${prefix}-${hash.slice(0, 12)}`;
}
