/**
 * The S3 key layout the whole farm shares. Only keys travel through the state
 * machine; the objects themselves stay in the artifact bucket.
 *
 *   builds/{buildId}/source.tar.gz                      source snapshot
 *   builds/{buildId}/plan.json                          the full Plan
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
