/**
 * The dependency cache as the stage agent sees it: `openStageCache` before the commands
 * (restore), `close` after them (save after a success, within the stage's deadline). The
 * agent, the Lambda runner, the local executors and the Fargate helpers all go through
 * here; the logic is in restore-cache.ts and save-cache.ts.
 */
import type { CacheRoot } from '../../domain/cache/cache-manifest.js';
import type { StageCacheReport } from '../../domain/cache/cache-report.js';
import type { CacheScope } from '../../domain/cache/scope.js';
import type { CacheSpec } from '../../domain/pipeline/types.js';
import type { PlannedStage } from '../../domain/plan/types.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import { restoreCache, type CacheContext, type RestoredCache } from './restore-cache.js';
import { saveCache, type SaveOptions } from './save-cache.js';

export interface StageCacheRequest {
  buildId: string;
  stage: Pick<PlannedStage, 'name' | 'cache'>;
  /** The plan's cache scope; absent means the build's origin is unknown and no cache is used. */
  scope?: CacheScope;
  roots: Record<CacheRoot, string>;
  store: ArtifactStore;
  log: { line(text: string): void };
  maxRestoreBytes: number;
}

export class StageCache {
  readonly #context: CacheContext;
  readonly #restored: RestoredCache;

  private constructor(context: CacheContext, restored: RestoredCache) {
    this.#context = context;
    this.#restored = restored;
  }

  /** Undefined when the stage has no `cache:`; restores (or says why not) otherwise. */
  static async open(request: StageCacheRequest): Promise<StageCache | undefined> {
    const spec = request.stage.cache;
    if (spec === undefined) return undefined;
    if (request.scope === undefined) {
      request.log.line('== cache: not used, this build has no cache scope');
      return undefined;
    }
    const context = contextOf(request, spec, request.scope);
    return new StageCache(context, await restoreCache(context));
  }

  /**
   * A cache restored in another process (Fargate: fetch restores, publish saves): the
   * state `restored` handed over, read from where the build's commands cannot write.
   */
  static resume(request: StageCacheRequest, restored: RestoredCache): StageCache | undefined {
    if (request.stage.cache === undefined || request.scope === undefined) return undefined;
    return new StageCache(contextOf(request, request.stage.cache, request.scope), restored);
  }

  /** What to hand over to `resume`. */
  get restored(): RestoredCache {
    return this.#restored;
  }

  /** What restore did, for a stage that will not save (it failed). */
  get report(): StageCacheReport {
    return this.#restored.report;
  }

  /** The report for a stage that did not succeed: nothing is saved. */
  unsaved(reason: string): StageCacheReport {
    return { ...this.#restored.report, notSaved: reason };
  }

  /**
   * Saves after a success. A save still running at `deadline` is abandoned (the stage's
   * result matters more than its cache): the report says so.
   */
  async save(deadline: number, now: () => number, options: SaveOptions = {}): Promise<StageCacheReport> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<StageCacheReport>((resolve) => {
      timer = setTimeout(() => resolve(this.unsaved('the stage\'s deadline came before the save finished')), Math.max(0, deadline - now()));
    });
    try {
      return await Promise.race([saveCache(this.#context, this.#restored, options), late]);
    } finally {
      clearTimeout(timer);
    }
  }
}

function contextOf(request: StageCacheRequest, spec: CacheSpec, scope: CacheScope): CacheContext {
  return {
    buildId: request.buildId,
    stage: request.stage.name,
    spec,
    scope,
    roots: request.roots,
    store: request.store,
    log: request.log,
    maxRestoreBytes: request.maxRestoreBytes,
  };
}
