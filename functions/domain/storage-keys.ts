/**
 * The S3 key layout the whole farm shares. Only keys travel through the state
 * machine; the objects themselves stay in the artifact bucket.
 *
 *   builds/{buildId}/source.tar.gz                      source snapshot
 *   builds/{buildId}/plan.json                          the full Plan
 *   builds/{buildId}/stages/{stage}/log.txt             the stage's log (secrets masked)
 *   builds/{buildId}/stages/{stage}/artifacts/{path}    each artifact, at its workspace path
 *   builds/{buildId}/stages/{stage}/manifest.json       ArtifactEntry[]
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

export function stagePrefix(buildId: string, stage: string): string {
  return `${buildPrefix(buildId)}stages/${stage}/`;
}

export function stageLogKey(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}log.txt`;
}

export function artifactsPrefix(buildId: string, stage: string): string {
  return `${stagePrefix(buildId, stage)}artifacts/`;
}

/** `path` is workspace-relative with `/` separators (as in the manifest). */
export function artifactKey(buildId: string, stage: string, path: string): string {
  return `${artifactsPrefix(buildId, stage)}${path}`;
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
