/**
 * The dependency cache in a Fargate task, where no one process sees the whole stage:
 * `fetch` restores into the HOME volume and the workspace (layout.ts HOME_PATH) and
 * leaves what it learnt (the key, computed before any command could change the lockfile,
 * and the restore's report) on the helper volume, which the build container mounts
 * read-only; `publish` saves after a successful build from the same volumes.
 */
import { lchown, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageCacheReport } from '../../domain/cache/cache-report.js';
import type { CacheScope } from '../../domain/cache/scope.js';
import type { PlannedStage } from '../../domain/plan/types.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { RestoredCache } from './restore-cache.js';
import { StageCache, type StageCacheRequest } from './stage-cache.js';

export interface FargateCacheContext {
  buildId: string;
  workspace: string;
  /** The HOME volume. */
  homeDir: string;
  /** The helper volume (read-only in the build container): where fetch leaves the state for publish. */
  helperDir: string;
  workspaceUid: number;
}

/** A save still running this long after publish started is abandoned (the result matters more). */
export const PUBLISH_SAVE_BUDGET_MS = 10 * 60 * 1000;

function stateFile(context: FargateCacheContext): string {
  return join(context.helperDir, 'cache-state.json');
}

function request(context: FargateCacheContext, stage: PlannedStage, scope: CacheScope | undefined, store: ArtifactStore, log: { line(text: string): void }, maxRestoreBytes: number): StageCacheRequest {
  return { buildId: context.buildId, stage, scope, roots: { home: context.homeDir, workspace: context.workspace }, store, log, maxRestoreBytes };
}

/** In fetch, after the workspace is in place: prepares HOME for the build user and restores the cache into it. */
export async function restoreInFetch(
  context: FargateCacheContext,
  stage: PlannedStage,
  scope: CacheScope | undefined,
  store: ArtifactStore,
  log: { line(text: string): void },
  maxRestoreBytes: number,
): Promise<void> {
  await mkdir(context.homeDir, { recursive: true });
  const cache = await StageCache.open(request(context, stage, scope, store, log, maxRestoreBytes));
  if (cache) await writeFile(stateFile(context), JSON.stringify(cache.restored), { mode: 0o600 });
  // The volume is created root-owned: the build user must own its HOME (and what was restored into it).
  if (context.workspaceUid !== 0) await chownAll(context.homeDir, context.workspaceUid);
}

/** In publish: saves after a successful build; the cache's report for the result, or undefined without a cache. */
export async function saveInPublish(
  context: FargateCacheContext,
  stage: PlannedStage,
  scope: CacheScope | undefined,
  store: ArtifactStore,
  log: { line(text: string): void },
  build: { succeeded: boolean; now: () => number },
): Promise<StageCacheReport | undefined> {
  const text = await readFile(stateFile(context), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined; // no cache, or fetch failed before restoring
  const cache = StageCache.resume(request(context, stage, scope, store, log, 0), JSON.parse(text) as RestoredCache);
  if (!cache) return undefined;
  if (!build.succeeded) return cache.unsaved('the stage did not succeed');
  return cache.save(build.now() + PUBLISH_SAVE_BUDGET_MS, build.now);
}

async function chownAll(path: string, uid: number): Promise<void> {
  await lchown(path, uid, uid).catch(() => undefined); // lchown: a link is never followed out of HOME
  const stats = await lstat(path).catch(() => undefined);
  if (!stats?.isDirectory()) return;
  for (const name of await readdir(path)) await chownAll(join(path, name), uid);
}
