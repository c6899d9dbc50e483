/**
 * The S3 key layout the whole farm shares. Only keys travel through the state
 * machine; the objects themselves stay in the artifact bucket.
 *
 *   builds/{buildId}/source.tar.gz                      source snapshot
 *   builds/{buildId}/plan.json                          the full Plan
 *   builds/{buildId}/plan/stages/{stage}.json           one planned stage (what its runner reads)
 *   builds/{buildId}/plan/batches/{index}.json          one batch of the schedule (what Select stages reads)
 *   waits/{buildId}/{stage}.json                        a waiting stage's task token (control plane only)
 *   builds/{buildId}/stages/{stage}/log.txt             the stage's log (secrets masked)
 *   builds/{buildId}/stages/{stage}/artifacts.tar       the stage's artifacts, one archive (runner/archive)
 *   builds/{buildId}/stages/{stage}/manifest.json       ArtifactManifest: the archive's digest, its files
 *   builds/{buildId}/stages/{stage}/result.json         StageResult
 *   builds/{buildId}/report.json                        BuildReport
 *   history/{owner}/{repo}/{stage}.json                 StageHistory
 */

export function buildPrefix(buildId: string): string {
  return `builds/${buildId}/`;
}

export function sourceKey(buildId: string): string {
  return `${buildPrefix(buildId)}source.tar.gz`;
}

export function planKey(buildId: string): string {
  return `${buildPrefix(buildId)}plan.json`;
}

/**
 * One stage's slice of the plan, beside the plan it came from: `builds/{id}/plan.json` gives
 * `builds/{id}/plan/stages/{stage}.json`. A stage's runner reads only this (O(1) in the
 * pipeline's size), never the whole plan (4.7 MB for 1,000 stages).
 */
export function stagePlanKey(planKey: string, stage: string): string {
  const base = planKey.endsWith('.json') ? planKey.slice(0, -'.json'.length) : planKey;
  return `${base}/stages/${stage}.json`;
}

/** Batch `index` of the build's schedule (domain/plan/batches.ts), beside the plan. */
export function batchPlanKey(planKey: string, index: number): string {
  const base = planKey.endsWith('.json') ? planKey.slice(0, -'.json'.length) : planKey;
  return `${base}/batches/${index}.json`;
}

/**
 * Control-plane records of a build's callback waits, outside `builds/`: a stage's credentials
 * read all of `builds/{id}/`, and a task token must never reach a stage.
 */
export const WAITS_PREFIX = 'waits/';

/** The task token of a stage waiting for its needs (`Wait for needs`). */
export function stageWaitKey(buildId: string, stage: string): string {
  return `${WAITS_PREFIX}${buildId}/${stage}.json`;
}

/** Written when a stage of the build fails: fail-fast skips the stages still waiting. */
export function buildFailureKey(buildId: string): string {
  return `${WAITS_PREFIX}${buildId}/failed.json`;
}

export function stagePrefix(buildId: string, stage: string): string {
  return `${buildPrefix(buildId)}stages/${stage}/`;
}

export function stageLogKey(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}log.txt`;
}

/** All of a stage's artifacts as one tar: one PUT (or one multipart upload) and one GET, whatever the file count. */
export function artifactArchiveKey(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}artifacts.tar`;
}

export function manifestKey(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}manifest.json`;
}

export function stageResultKey(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}result.json`;
}

export function reportKey(buildId: string): string {
  return `${buildPrefix(buildId)}report.json`;
}

/** `repository` is `owner/repo`. */
export function historyKey(repository: string, stage: string): string {
  return `history/${repository}/${stage}.json`;
}
