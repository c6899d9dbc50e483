/**
 * Where a build's objects live in the artifact store. The layout is shared with the stage
 * agent: `builds/{buildId}/source.tar.gz`, `plan.json`, `stages/{stage}/{log.txt,manifest.json,result.json}`,
 * `report.json`. `stages/{stage}/run.json` is the state machine's own record of how a stage ran
 * (runner path, escalation, Fargate billing timestamps).
 *
 * TODO(integration): re-export from `functions/domain/storage-keys.ts` once it lands on main.
 */
export const buildPrefix = (buildId: string): string => `builds/${buildId}/`;
export const sourceKey = (buildId: string): string => `${buildPrefix(buildId)}source.tar.gz`;
export const planKey = (buildId: string): string => `${buildPrefix(buildId)}plan.json`;
export const reportKey = (buildId: string): string => `${buildPrefix(buildId)}report.json`;
/** The readable summary beside the report. */
export const reportSummaryKey = (buildId: string): string => `${buildPrefix(buildId)}report.txt`;
export const stagePrefix = (buildId: string, stage: string): string => `${buildPrefix(buildId)}stages/${stage}/`;
export const stageResultKey = (buildId: string, stage: string): string => `${stagePrefix(buildId, stage)}result.json`;
export const stageLogKey = (buildId: string, stage: string): string => `${stagePrefix(buildId, stage)}log.txt`;
export const stageManifestKey = (buildId: string, stage: string): string => `${stagePrefix(buildId, stage)}manifest.json`;
export const stageRunKey = (buildId: string, stage: string): string => `${stagePrefix(buildId, stage)}run.json`;
/** `repository` is `owner/repo`: what earlier builds measured for a stage. */
export const historyKey = (repository: string, stage: string): string => `history/${repository}/${stage}.json`;
