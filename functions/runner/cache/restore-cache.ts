/**
 * Restoring a stage's dependency cache before its commands: compute the key from the
 * workspace's key files, find the entry (exact key, else the newest with the same prefix,
 * scope by scope: domain/cache/restore-choice.ts), and unpack its parts into HOME and the
 * workspace through the archive module (sha256 and size checked on the way down).
 *
 * A cache is an optimisation: nothing here fails the stage. A broken or missing entry is a
 * warning in the log and the stage starts cold, with any half-restored paths removed.
 */
import { cacheKey, cacheLabel, type CacheKey } from '../../domain/cache/cache-key.js';
import { cacheFamilyPrefix } from '../../domain/cache/cache-keys.js';
import { cacheEntryBytes, cachePartKey, parseCacheManifest, type CacheRoot } from '../../domain/cache/cache-manifest.js';
import { describeCache, formatBytes, type StageCacheReport } from '../../domain/cache/cache-report.js';
import { chooseRestore, type RestoreChoice, type ScopeListing } from '../../domain/cache/restore-choice.js';
import type { CacheScope } from '../../domain/cache/scope.js';
import type { CacheSpec } from '../../domain/pipeline/types.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { unpackArchive } from '../archive/index.js';
import { keyFileDigests } from './cache-paths.js';
import { removeRestoredPaths } from './remove-restored.js';

export interface CacheContext {
  buildId: string;
  stage: string;
  spec: CacheSpec;
  scope: CacheScope;
  roots: Record<CacheRoot, string>;
  store: ArtifactStore;
  log: { line(text: string): void };
  /** Cap on the bytes unpacked (the stage's disk). */
  maxRestoreBytes: number;
}

/** What restore learnt, for the save after the commands. */
export interface RestoredCache {
  key: CacheKey;
  report: StageCacheReport;
}

export async function restoreCache(context: CacheContext): Promise<RestoredCache> {
  const { spec, scope, roots } = context;
  const key = cacheKey(spec, await keyFileDigests(roots.workspace, spec.keyFiles));
  const report: StageCacheReport = { key: key.label, result: 'miss', restoredBytes: 0 };
  let choice: RestoreChoice = { result: 'miss' };
  // What the unpacking wrote, per root, so a failure undoes exactly that.
  const written: Record<CacheRoot, string[]> = { home: [], workspace: [] };
  try {
    for (const branch of scope.read) {
      choice = chooseRestore(key, [await listScope(context, branch)]);
      if (choice.result !== 'miss') break;
    }
    if (choice.result !== 'miss') {
      const manifestText = await context.store.getText(choice.objectKey);
      if (manifestText === undefined) throw new Error(`${choice.objectKey} vanished (expired?)`);
      const manifest = parseCacheManifest(manifestText, choice.objectKey);
      const total = cacheEntryBytes(manifest);
      for (const part of manifest.parts) {
        const partKey = cachePartKey(choice.objectKey, part.root);
        const body = await context.store.get(partKey);
        if (body === undefined) throw new Error(`${partKey} is missing`);
        await unpackArchive(body, roots[part.root], { ...part, maxBytes: context.maxRestoreBytes, name: partKey, written: written[part.root] });
      }
      Object.assign(report, { result: choice.result, restoredBytes: total, restoredFrom: { key: cacheLabel(spec.prefix, choice.hash), branch: choice.branch } });
    }
  } catch (error) {
    context.log.line(`warning: cache ${key.label} could not be restored, the stage starts without it: ${(error as Error).message}`);
    await removeWritten(context, written);
    Object.assign(report, { result: 'miss', restoredBytes: 0 });
    delete report.restoredFrom;
  }
  context.log.line(`== ${describeCache(report)}${report.result === 'miss' && scope.read.length === 0 ? ' (no branch scope to read)' : ''}`);
  if (report.result !== 'miss') context.log.line(`== restored ${formatBytes(report.restoredBytes)} into ${pathsLabel(spec)}`);
  return { key, report };
}

async function listScope(context: CacheContext, branch: string): Promise<ScopeListing> {
  const familyPrefix = cacheFamilyPrefix(context.scope.repository, branch, context.spec.prefix);
  const entries = [];
  for await (const object of context.store.list(familyPrefix)) entries.push(object);
  return { branch, familyPrefix, entries };
}

/**
 * After a failed restore: what it unpacked goes, so the commands see no half entry. Only what
 * it wrote: the cache's paths may match an upstream artifact already in the workspace.
 */
async function removeWritten(context: CacheContext, written: Record<CacheRoot, string[]>): Promise<void> {
  for (const root of ['home', 'workspace'] as const) await removeRestoredPaths(context.roots[root], written[root]);
}

function pathsLabel(spec: CacheSpec): string {
  return spec.paths.join(', ');
}
