/**
 * Where the report and the stage history live in the artifact store. Same
 * layout as `functions/domain/storage-keys.ts` (agent branch):
 *
 *   builds/{buildId}/report.json          BuildReport
 *   builds/{buildId}/report.txt           the readable summary
 *   history/{owner}/{repo}/{stage}.json   StageHistory
 *
 * TODO(integration): take `reportKey` and `historyKey` from storage-keys.ts once it is on main.
 */
export function reportKey(buildId: string): string {
  return `builds/${buildId}/report.json`;
}

export function reportTextKey(buildId: string): string {
  return `builds/${buildId}/report.txt`;
}

/** `repository` is `owner/repo`. */
export function historyKey(repository: string, stage: string): string {
  return `history/${repository}/${stage}.json`;
}
