import { createHash } from 'node:crypto';

/**
 * Where cache entries live in the artifact bucket:
 *
 *   caches/{owner}/{repo}/{branch}/{prefix}/{hash}.json (+ {hash}.home.tar, {hash}.workspace.tar)
 *
 * `hash` is the entry's key hash (cache-key.ts). Each of owner, repo and branch is ONE key
 * segment, encoded by `cacheSegment`: a branch's `/` is escaped, so `feature` and
 * `feature/x` are sibling scopes and a grant for the prefix of one never covers the other
 * (IAM resource ARNs and `s3:prefix` conditions match by string prefix). The alphabet left
 * is S3's "safe characters" (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html)
 * minus `*`, `'`, `(`, `)` and a leading `.`; `*` is a wildcard in IAM.
 * Long segments are cut and end in a hash, so a key stays far below S3's 1,024 bytes and the
 * session policy below STS's 2,048 characters whatever the branch is called.
 */

export const CACHES_PREFIX = 'caches/';
/** An entry is named by its manifest (domain/cache/cache-manifest.ts); its archives sit beside it. */
export const CACHE_ENTRY_SUFFIX = '.json';
/** Longest encoded segment; above it the segment is cut to SEGMENT_HEAD characters plus `!!` and 16 hex digits. */
export const MAX_SEGMENT_CHARACTERS = 48;
const SEGMENT_HEAD = 30;

/** One S3 key segment for any string: `[A-Za-z0-9_.-]` stay (no leading `.`), every other byte is `!xx`. */
export function cacheSegment(text: string): string {
  let encoded = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const char = String.fromCharCode(byte);
    // No leading `.` and no `..` (a key segment `..` reads as a parent step; the session policy refuses it).
    const plain = /[A-Za-z0-9_-]/.test(char) || (char === '.' && encoded !== '' && !encoded.endsWith('.'));
    encoded += plain ? char : `!${byte.toString(16).padStart(2, '0')}`;
  }
  if (encoded === '') return '!';
  if (encoded.length <= MAX_SEGMENT_CHARACTERS) return encoded;
  // `!!` never comes out of the encoding above (a `!` is always followed by two hex digits): no collisions with short names.
  const digest = createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 16);
  return `${encoded.slice(0, SEGMENT_HEAD).replace(/!.?$/, '')}!!${digest}`;
}

/** `caches/{owner}/{repo}/`: every cache of a repository. */
export function repositoryCachePrefix(repository: string): string {
  const cut = repository.indexOf('/');
  const owner = cut < 0 ? repository : repository.slice(0, cut);
  const name = cut < 0 ? '' : repository.slice(cut + 1);
  return `${CACHES_PREFIX}${cacheSegment(owner)}/${cacheSegment(name)}/`;
}

/** `caches/{owner}/{repo}/{branch}/`: one branch's cache scope (what a grant names). */
export function branchCachePrefix(repository: string, branch: string): string {
  return `${repositoryCachePrefix(repository)}${cacheSegment(branch)}/`;
}

/** `.../{branch}/{prefix}/`: the entries a miss may fall back to. */
export function cacheFamilyPrefix(repository: string, branch: string, prefix: string): string {
  return `${branchCachePrefix(repository, branch)}${cacheSegment(prefix)}/`;
}

/** The object of one entry. */
export function cacheEntryKey(repository: string, branch: string, prefix: string, hash: string): string {
  return `${cacheFamilyPrefix(repository, branch, prefix)}${hash}${CACHE_ENTRY_SUFFIX}`;
}
