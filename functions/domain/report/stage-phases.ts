/**
 * Where a stage's time went, as the agent measured it (milliseconds, wall clock). The
 * phases do not overlap; what is left of `durationMs` is the log and result uploads and
 * the agent's own bookkeeping. Absent phases did not happen (no cache, no artifacts) or
 * were not measured (records written before phases, the Fargate task's helpers).
 */
export interface StagePhases {
  /** Downloading and unpacking the build's source snapshot. */
  snapshotMs?: number;
  /** Downloading and unpacking upstream stages' artifact archives. */
  artifactsInMs?: number;
  /** Computing the cache key, listing, downloading and unpacking the cache entry. */
  cacheRestoreMs?: number;
  /** The stage's commands, each from launch to exit (sandbox start included). */
  commandsMs?: number;
  /** Of `commandsMs`: starting the sandbox (bwrap and its network) before each command ran. */
  sandboxStartMs?: number;
  /** Finding, packing and uploading the stage's artifacts. */
  artifactsOutMs?: number;
  /** Packing and uploading the cache entry. */
  cacheSaveMs?: number;
}

export type StagePhase = keyof StagePhases;
