/**
 * The stage's result as the helpers write it: the log, the manifest and the result record
 * the report reads. Publish writes it after the build container; fetch writes it itself
 * when it fails, because the build container then never starts.
 */
import { lstat, readFile, stat } from 'node:fs/promises';
import type { StageCacheReport } from '../../domain/cache/cache-report.js';
import type { ContainerUsage } from '../../domain/fargate/container-stats.js';
import type { BuildOutcome } from '../../domain/fargate/task-metadata.js';
import type { S3RequestCount } from '../../domain/report/cost-model.js';
import type { ArtifactManifest, StageResult } from '../../domain/report/types.js';
import { cpuUsage, type CpuUsage } from '../../domain/sizing/cpu-usage.js';
import { SecretMasker } from '../secret-masker.js';
import { fetchRequestsFile, scriptPaths, type HelperContext } from './helper-context.js';
import type { HelperDeps } from './helper-deps.js';
import type { LogMasking } from './stage-secrets.js';
import { cappedLog, maskedLog, readLogFile } from './stage-log-file.js';

export const NO_ARTIFACTS: ArtifactManifest = { version: 2, archive: null, artifacts: [] };

async function fetchRequests(context: HelperContext): Promise<S3RequestCount | undefined> {
  const text = await readFile(fetchRequestsFile(context), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const parsed = JSON.parse(text) as Partial<S3RequestCount>;
    return { put: Number(parsed.put) || 0, get: Number(parsed.get) || 0 };
  } catch {
    return undefined;
  }
}

export async function writeResult(
  context: HelperContext,
  deps: HelperDeps,
  facts: {
    startedAt: number;
    outcome: BuildOutcome;
    failure?: { name: string; message: string };
    manifest: ArtifactManifest;
    masking?: LogMasking;
    /** The stage's `log-limit` (the default cap when absent). */
    logLimitBytes?: number;
    cache?: StageCacheReport;
    usage?: ContainerUsage;
  },
): Promise<StageResult> {
  const { buildId, stageName } = context;
  const finishedAt = deps.now();
  const masking = facts.masking ?? { values: [] };
  const mask = (text: string) => ('values' in masking ? new SecretMasker(masking.values).mask(text) : text);
  const logFile = scriptPaths(context).logFile;
  // lstat: the build user owns the logs volume and could leave a link or a FIFO where the log was.
  const hasLog = await lstat(logFile).then((s) => s.isFile(), () => false);
  const log =
    'withheld' in masking
      ? `buildfarm: the stage log is withheld: ${masking.withheld}.\n`
      : hasLog
        ? // Masked first (a secret must not be cut in two by the cap), then capped like any stage log.
          cappedLog(masking.values.length > 0 ? maskedLog(logFile, masking.values) : readLogFile(logFile), facts.logLimitBytes)
        : facts.failure
          ? `${mask(facts.failure.message)}\n`
          : '';
  await deps.store.put(deps.keys.stageLogKey(buildId, stageName), log, 'text/plain; charset=utf-8');
  await deps.store.put(deps.keys.manifestKey(buildId, stageName), JSON.stringify(facts.manifest), 'application/json');
  // The build container's output went to CloudWatch through awslogs: the log file holds the same bytes.
  const logBytes = hasLog ? (await stat(logFile)).size : 0;
  // This container's requests, this record's PUT, and fetch's (when publish writes the record).
  // (A fetch that failed writes the record itself, and leaves no count file behind.)
  const fetched = await fetchRequests(context);
  const own = deps.s3Requests?.();
  const s3Requests = own ? { put: own.put + 1 + (fetched?.put ?? 0), get: own.get + (fetched?.get ?? 0) } : undefined;
  const result: StageResult = {
    buildId,
    stage: stageName,
    status: facts.failure ? (facts.failure.name === 'StageTimeout' ? 'timed_out' : 'failed') : 'succeeded',
    runner: 'fargate',
    exitCode: facts.outcome.exitCode,
    ...(facts.failure ? { errorName: facts.failure.name } : {}),
    reason: facts.failure ? mask(facts.failure.message) : 'all commands succeeded',
    startedAt: new Date(facts.startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: Math.max(0, finishedAt - facts.startedAt),
    // Measured by live-log from the build container's Docker stats (container-usage.ts); 0 when it left none.
    peakMemoryMiB: facts.usage?.peakMemoryMiB ?? 0,
    ...(facts.usage && facts.usage.samples > 0 ? { cpuUsage: fargateCpuUsage(facts.usage, facts.outcome, Math.max(0, finishedAt - facts.startedAt)) } : {}),
    peakDiskMiB: 0,
    logKey: deps.keys.stageLogKey(buildId, stageName),
    manifestKey: deps.keys.manifestKey(buildId, stageName),
    logBytes,
    ...(s3Requests ? { s3Requests } : {}),
    artifactCount: facts.manifest.artifacts.length,
    artifactBytes: facts.manifest.artifacts.reduce((sum, entry) => sum + entry.size, 0),
    ...(facts.cache ? { cache: facts.cache } : {}),
  };
  await deps.store.put(deps.keys.stageResultKey(buildId, stageName), JSON.stringify(result), 'application/json');
  return result;
}

/** CPU usage from live-log's figures, over the build container's own run (its StartedAt to FinishedAt). */
function fargateCpuUsage(usage: ContainerUsage, outcome: BuildOutcome, fallbackMs: number): CpuUsage {
  const ran = outcome.startedAt && outcome.finishedAt ? Date.parse(outcome.finishedAt) - Date.parse(outcome.startedAt) : NaN;
  return cpuUsage(usage.cpuSeconds, (Number.isFinite(ran) && ran > 0 ? ran : fallbackMs) / 1000, usage.peakVcpu, 'container-stats');
}
