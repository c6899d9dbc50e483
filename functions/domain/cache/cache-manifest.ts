/**
 * A cache entry is a manifest plus one archive per root it keeps:
 *
 *   .../{prefix}/{hash}.json            this manifest, written LAST: an entry without it is incomplete and never restored
 *   .../{prefix}/{hash}.home.tar        the `~/...` paths, packed from the stage's HOME
 *   .../{prefix}/{hash}.workspace.tar   the workspace-relative paths
 *
 * One archive per root because HOME and the workspace are different volumes on Fargate:
 * each part unpacks straight into its own root. The manifest carries each part's sha256
 * and size, which the unpacker checks on the way down (runner/archive/unpack.ts).
 */

export type CacheRoot = 'home' | 'workspace';

export interface CachePart {
  root: CacheRoot;
  sha256: string;
  bytes: number;
  compression: 'none' | 'gzip';
  /** Files, links and directories in the part. */
  entries: number;
}

export interface CacheManifest {
  version: 1;
  /** The key label (`npm-1a2b3c4d5e6f`). */
  key: string;
  /** The paths as written in the pipeline file. */
  paths: string[];
  parts: CachePart[];
  /** Build and stage that saved it, for people reading the bucket. */
  savedBy: { buildId: string; stage: string };
}

export const CACHE_MANIFEST_SUFFIX = '.json';

export function cachePartKey(manifestKey: string, root: CacheRoot): string {
  return `${manifestKey.slice(0, -CACHE_MANIFEST_SUFFIX.length)}.${root}.tar`;
}

/** Total archive bytes of an entry (what a restore downloads). */
export function cacheEntryBytes(manifest: Pick<CacheManifest, 'parts'>): number {
  return manifest.parts.reduce((sum, part) => sum + part.bytes, 0);
}

export class MalformedCacheManifest extends Error {
  override readonly name = 'MalformedCacheManifest';
}

/** Checks what came from the bucket has the shape this module writes (a push's code could have written it). */
export function parseCacheManifest(text: string, where: string): CacheManifest {
  let value: Partial<CacheManifest>;
  try {
    value = JSON.parse(text) as Partial<CacheManifest>;
  } catch {
    throw new MalformedCacheManifest(`${where} is not JSON`);
  }
  const partOk = (part: Partial<CachePart>) =>
    (part.root === 'home' || part.root === 'workspace') &&
    typeof part.sha256 === 'string' && /^[0-9a-f]{64}$/.test(part.sha256) &&
    Number.isSafeInteger(part.bytes) && (part.bytes ?? -1) >= 0 &&
    (part.compression === 'none' || part.compression === 'gzip');
  const roots = (value.parts ?? []).map((part) => part.root);
  if (value?.version !== 1 || typeof value.key !== 'string' || !Array.isArray(value.parts) || !value.parts.every(partOk) || new Set(roots).size !== roots.length) {
    throw new MalformedCacheManifest(`${where} is not a cache manifest`);
  }
  return value as CacheManifest;
}
