/**
 * The stage agent's pieces the Fargate helper reuses (workspace.ts, artifacts.ts, the S3
 * store), passed in so the helper holds only what is specific to the three-container
 * layout and tests need no AWS; helper-deps-from-env.ts wires the real ones.
 */
import type { ContainerUsage } from '../../domain/fargate/container-stats.js';
import type { S3RequestCount } from '../../domain/report/cost-model.js';
import type { ArtifactManifest } from '../../domain/report/types.js';
import type { ArtifactStore } from '../../ports/artifact-store.js';
import type { SecretsProvider } from '../../ports/secrets.js';

/** A line-oriented log (the stage agent's StageLog fits). */
export interface HelperLog {
  line(text: string): void;
}

/** The stage agent's pieces the helper reuses (functions/runner/workspace.ts, artifacts.ts, storage keys). */
export interface HelperDeps {
  store: ArtifactStore;
  /** The stage's declared secrets, as StageCredentials resolved them for this helper's grant. */
  secrets: SecretsProvider;
  prepareWorkspace(
    request: { buildId: string; artifactsFrom: string[]; workspace: string; limitBytes: number; limitIsDisk: boolean },
    store: ArtifactStore,
    log: HelperLog,
  ): Promise<void>;
  findArtifacts(workspace: string, globs: string[]): Promise<{ files: string[]; unmatched: string[] }>;
  uploadArtifacts(
    workspace: string,
    files: string[],
    target: { buildId: string; stage: string },
    store: ArtifactStore,
  ): Promise<ArtifactManifest>;
  keys: {
    stageLogKey(buildId: string, stage: string): string;
    manifestKey(buildId: string, stage: string): string;
    stageResultKey(buildId: string, stage: string): string;
  };
  log: HelperLog;
  now: () => number;
  /** GET `${ECS_CONTAINER_METADATA_URI_V4}/task` (injected so tests need no endpoint). */
  taskMetadata: () => Promise<unknown>;
  /** What live-log measured of the build container (container-usage.ts readContainerUsage); absent: not measured. */
  containerUsage?: () => Promise<ContainerUsage | undefined>;
  /**
   * The S3 requests this container's client has made so far (adapters/aws/s3-request-counter.ts),
   * the bootstrap's helper download included. Absent: the result carries no count.
   */
  s3Requests?: () => S3RequestCount;
}
