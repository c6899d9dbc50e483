/**
 * `buildfarm gc`, and `serve` at every start: applies the retention policy
 * (retention.ts) to the data directory. For each build let go it deletes its
 * objects in the embedded S3 (`builds/{id}/`: snapshot, plan, logs, artifacts,
 * results, report), its record, and its bus messages (both topics), so the
 * recovery at start never re-runs a build that was collected. It also removes
 * the scratch directories of stages whose farm process is gone (a crash or
 * `kill -9` leaves them: `work/lambda/sandbox-PID-N`, `work/fargate/task-PID-N`).
 * Dependency caches older than CACHE_EXPIRY_DAYS go too (retention.ts).
 */
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BusMessage, LocalBus } from '../adapters/local/local-bus.js';
import { buildPrefix } from '../domain/storage-keys.js';
import { executionName } from '../domain/webhook/execution-name.js';
import { parseBuildRequest } from '../domain/webhook/parse-build-request.js';
import type { BuildStore } from './build-store.js';
import { processAlive } from './process-alive.js';
import { HAND_OVER_FOLDER } from './stage-artifact-hand-over.js';
import { RETIRED_FOLDER } from './retired-work-folders.js';
import { CACHES_PREFIX } from '../domain/cache/cache-keys.js';
import type { StoredObject } from '../ports/artifact-store.js';
import { buildsToRemove, expiredCacheObjects, type RetentionPolicy } from './retention.js';

export interface GarbageCollectDeps {
  store: BuildStore;
  bus: LocalBus;
  /** Deletes every object under a prefix of the embedded S3; returns how many (adapters/local/delete-prefix.ts). */
  deleteObjects: (prefix: string) => Promise<number>;
  /** `DIR/work`: the local executors' scratch space. */
  workRoot: string;
  now: Date;
  policy: RetentionPolicy;
  /** Lists the embedded S3 under a prefix, with each object's time (for the caches' expiry). */
  listObjects?: (prefix: string) => AsyncIterable<StoredObject>;
  /** Say what would go, remove nothing. */
  dryRun?: boolean;
}

export interface GarbageCollectOutcome {
  builds: string[];
  objects: number;
  messages: number;
  workDirectories: string[];
  /** Expired dependency cache objects (removed unless a dry run). */
  cacheObjects: string[];
}

export async function collectGarbage(deps: GarbageCollectDeps): Promise<GarbageCollectOutcome> {
  const builds = buildsToRemove(deps.store.all(), deps.now, deps.policy);
  const workDirectories = await orphanedWorkDirectories(deps.workRoot);
  const cacheObjects = deps.listObjects ? expiredCacheObjects(await collect(deps.listObjects(CACHES_PREFIX)), deps.now) : [];
  if (deps.dryRun) return { builds, objects: 0, messages: 0, workDirectories, cacheObjects };
  let objects = 0;
  for (const id of builds) {
    objects += await deps.deleteObjects(buildPrefix(id));
    await deps.store.remove(id);
  }
  const removed = new Set(builds);
  const messages = await deps.bus.retain((message) => !removed.has(buildIdOf(message) ?? ''));
  for (const directory of workDirectories) await rm(directory, { recursive: true, force: true });
  // Each key is a whole object name ({hash}.json, {hash}.home.tar): as a prefix it names only itself.
  for (const key of cacheObjects) objects += await deps.deleteObjects(key);
  return { builds, objects, messages, workDirectories, cacheObjects };
}

async function collect(objects: AsyncIterable<StoredObject>): Promise<StoredObject[]> {
  const all: StoredObject[] = [];
  for await (const object of objects) all.push(object);
  return all;
}

/** The build a bus message belongs to; undefined when it cannot be told (such messages are kept). */
function buildIdOf(message: BusMessage): string | undefined {
  try {
    if (message.topic === 'BuildRequests') {
      const request = parseBuildRequest(message.message);
      return executionName(request.deliveryId, request.repository);
    }
    const report = JSON.parse(message.message) as { buildId?: unknown };
    return typeof report.buildId === 'string' ? report.buildId : undefined;
  } catch {
    return undefined;
  }
}

/** Scratch directories named after a process that no longer runs. */
async function orphanedWorkDirectories(workRoot: string): Promise<string[]> {
  const orphans: string[] = [];
  // `export`: artifacts moved out of a stage for `buildfarm run`'s export (stage-artifact-hand-over.ts).
  // `retired`: finished stages' work folders waiting for deletion (retired-work-folders.ts).
  for (const kind of ['lambda', 'fargate', HAND_OVER_FOLDER, RETIRED_FOLDER]) {
    const directory = join(workRoot, kind);
    for (const name of await readdir(directory).catch(() => [] as string[])) {
      const pid = Number(/^(?:sandbox|task|export|retired)-(\d+)-\d+$/.exec(name)?.[1]);
      if (pid > 0 && !processAlive(pid)) orphans.push(join(directory, name));
    }
  }
  return orphans;
}
