/**
 * The stage agent: runs one planned stage from an empty directory to a
 * stored result. The Lambda runner, the Fargate task's helpers and the local
 * executors all call `runStage`.
 *
 * It RETURNS a StageResult for everything the user's stage caused (a command
 * failing, the deadline, the disk or memory limit, hostile paths) and THROWS
 * only InfrastructureErrors (snapshot missing, S3 writes failing, a secret
 * that cannot be read). The log is uploaded in every case.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CacheScope } from '../domain/cache/scope.js';
import type { StageCacheReport } from '../domain/cache/cache-report.js';
import type { PlannedStage, Runner } from '../domain/plan/types.js';
import { artifactSources } from '../domain/plan/artifact-sources.js';
import type { S3RequestCount } from '../domain/report/cost-model.js';
import type { ArtifactManifest, StageResult } from '../domain/report/types.js';
import { manifestKey, stageLogKey, stageResultKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SecretsProvider } from '../ports/secrets.js';
import { findArtifacts, uploadArtifacts } from './artifacts.js';
import { beforeDeadline } from './before-deadline.js';
import { StageCache } from './cache/stage-cache.js';
import { commandEnv, resolveSecrets } from './command-environment.js';
import { failureOf } from './command-failure.js';
import { diskUsageBytes } from './disk-usage.js';
import {
  ArtifactUploadFailed,
  InfrastructureError,
  OutOfDisk,
  ResultUploadFailed,
  RunnerError,
  SecretsDeniedForFork,
  StageCancelled,
  StageFailure,
  StageTimeout,
  whyStopped,
} from './errors.js';
import { ResourcePeaks, runCommand } from './run-command.js';
import type { StageSandbox } from './sandbox.js';
import { newStageMarker, STAGE_MARKER_VARIABLE } from './stage-containment.js';
import { PhaseClock } from './phase-clock.js';
import { StageLog } from './stage-log.js';
import { prepareWorkspace } from './workspace.js';

export { raiseForResult } from './command-failure.js';

export interface StageJob {
  buildId: string;
  stage: PlannedStage;
  runner: Runner;
  /** An empty directory to build the workspace in. */
  workRoot: string;
  /** Epoch ms: the whole process tree is stopped then. */
  deadline: number;
  /** The runner's disk for this stage (Lambda's /tmp); past it the stage is OutOfDisk. */
  diskLimitMiB?: number;
  /** The runner's memory; past it the stage is OutOfMemory. */
  memoryLimitMiB?: number;
  /** The build comes from a fork's pull request: secrets are never resolved. */
  fromFork?: boolean;
  /** The build was stopped: the running command's tree is killed and the stage ends cancelled. */
  signal?: AbortSignal;
  /** Cap on the stage's log, bytes (default: the stage's `log-limit`, else 64 MiB, see log-cap.ts). */
  logCapBytes?: number;
  /**
   * The local farm's sandbox for the commands (bubblewrap, or none with the reason, said in the log).
   * Absent on AWS: a Lambda sandbox or a Fargate task is the boundary there.
   */
  sandbox?: StageSandbox;
  /**
   * Lambda only: when the invocation started (epoch ms, before the session and the sweep) and the
   * INIT phase it paid for (a new execution environment's first invocation), so the result says
   * what Lambda bills rather than the agent's own time.
   */
  invocation?: { startedAt: number; initDurationMs: number };
  /**
   * The runtime's environment, of which PATH, LANG, LC_ALL and TZ reach the commands. On AWS it is
   * this process's (Lambda's runtime, the Fargate image); the local farm passes a fixed Lambda-like
   * one (local/stage-environment.ts), so a stage never sees the shell the farm was started from.
   */
  runtimeEnv?: Readonly<Record<string, string | undefined>>;
  /** The plan's cache scope (domain/cache/scope.ts): which branches' caches the stage reads and writes. */
  cacheScope?: CacheScope;
}

export interface AgentDeps {
  store: ArtifactStore;
  secrets: SecretsProvider;
  now: () => number;
  /** Where the live log goes (default process.stdout). */
  output?: NodeJS.WritableStream;
  /** The S3 requests this runner's client has made so far (adapters/aws/s3-request-counter.ts). */
  s3Requests?: () => S3RequestCount;
}

/** Cap on the unpacked snapshot when no disk limit is known (Fargate's largest ephemeral storage is 200 GiB). */
export const DEFAULT_WORKSPACE_LIMIT_BYTES = 200 * 1024 ** 3;

const MiB = 1024 * 1024;

export async function runStage(job: StageJob, deps: AgentDeps): Promise<StageResult> {
  const { buildId, stage } = job;
  const startedAt = deps.now();
  const workspace = join(job.workRoot, 'workspace');
  const home = join(job.workRoot, 'home');
  const tmp = join(job.workRoot, 'tmp');
  await Promise.all([workspace, home, tmp].map((dir) => mkdir(dir, { recursive: true })));

  const { values: secretValues, error: secretError } = await resolveSecrets(job, deps.secrets);
  const log = new StageLog(join(job.workRoot, 'log.txt'), deps.output ?? process.stdout, Object.values(secretValues), { capBytes: job.logCapBytes ?? stage.logLimitBytes });
  const peaks = new ResourcePeaks();
  const clock = new PhaseClock(deps.now);
  const diskLimitBytes = job.diskLimitMiB !== undefined ? job.diskLimitMiB * MiB : undefined;

  let failure: StageFailure | undefined;
  let infrastructure: InfrastructureError | undefined;
  let manifest: ArtifactManifest = { version: 2, archive: null, artifacts: [] };
  let cache: StageCache | undefined;
  let cacheReport: StageCacheReport | undefined;
  let restoredDisk: Promise<void> | undefined;

  try {
    log.line(`== ${stage.name} (build ${buildId}) on ${job.runner}`);
    if (job.sandbox?.kind === 'none') log.line(`== WARNING: no sandbox for this stage's commands: ${job.sandbox.reason}`);
    if (job.sandbox?.kind === 'bubblewrap' && job.sandbox.network.kind === 'none') {
      log.line(`== WARNING: this stage's sandbox has no network: ${job.sandbox.network.reason}`);
    }
    if (secretError) throw secretError;
    if (job.fromFork && Object.keys(stage.secrets).length > 0) {
      throw new SecretsDeniedForFork(
        `stage "${stage.name}" needs secrets (${Object.keys(stage.secrets).join(', ')}), which are never given to pull requests from forks`,
      );
    }
    const workspaceRequest = {
      buildId,
      artifactsFrom: artifactSources(stage),
      workspace,
      limitBytes: diskLimitBytes ?? DEFAULT_WORKSPACE_LIMIT_BYTES,
      limitIsDisk: diskLimitBytes !== undefined,
    };
    await beforeDeadline(job, deps, 'preparing the workspace', prepareWorkspace(workspaceRequest, deps.store, log, clock));
    const cacheRequest = { buildId, stage, scope: job.cacheScope, roots: { home, workspace }, store: deps.store, log, maxRestoreBytes: workspaceRequest.limitBytes };
    cache = await clock.time('cacheRestoreMs', () => beforeDeadline(job, deps, 'restoring the cache', StageCache.open(cacheRequest)));
    cacheReport = cache?.report;
    // The workspace's size as restored, for the peak: measured beside the first command (each command
    // is measured again when it ends, for the limit), not before it (du is a process of its own).
    restoredDisk = diskUsageBytes(job.workRoot).then((used) => peaks.noteDisk(used), () => undefined);

    // Every process the commands start inherits the marker, unless it clears its environment: leftovers are found by it.
    const marker = newStageMarker();
    const env = { ...commandEnv(job, { workspace, home, tmp }, secretValues), [STAGE_MARKER_VARIABLE]: marker };
    const sandbox = job.sandbox !== undefined ? { settings: job.sandbox, directories: { workspace, home, tmp } } : undefined;
    for (const command of stage.commands) {
      if (deps.now() >= job.deadline) throw new StageTimeout(`the deadline passed before "${command}" could start`);
      if (job.signal?.aborted) throw new StageCancelled(`${whyStopped(job.signal)} before "${command}" could start`);
      log.line(`$ ${command}`);
      log.sawNoSpace = false;
      const outcome = await clock.time('commandsMs', () => runCommand(
        command,
        {
          cwd: workspace,
          env,
          log,
          deadline: job.deadline,
          now: deps.now,
          diskRoot: job.workRoot,
          diskLimitBytes,
          memoryLimitBytes: job.memoryLimitMiB !== undefined ? job.memoryLimitMiB * MiB : undefined,
          signal: job.signal,
          marker,
          sandbox,
          phases: clock,
        },
        peaks,
      ));
      const failed = failureOf(outcome, command, log, peaks, job);
      if (failed) throw failed;
      // A short command can finish between two disk samples: measure once more before going on.
      const used = await diskUsageBytes(job.workRoot);
      peaks.noteDisk(used);
      if (diskLimitBytes !== undefined && used > diskLimitBytes) {
        throw new OutOfDisk(`after "${command}" the stage uses more than the ${job.diskLimitMiB} MiB disk limit`);
      }
    }

    manifest = await clock.time('artifactsOutMs', async () => {
      const found = await findArtifacts(workspace, stage.artifacts);
      for (const pattern of found.unmatched) log.line(`warning: artifact path "${pattern}" matched no file`);
      return beforeDeadline(job, deps, 'uploading artifacts', uploadArtifacts(workspace, found.files, { buildId, stage: stage.name }, deps.store));
    });
    if (manifest.archive) log.line(`== ${manifest.artifacts.length} artifacts stored (one archive, ${manifest.archive.bytes} bytes)`);
    if (cache) cacheReport = await clock.time('cacheSaveMs', () => cache!.save(job.deadline, deps.now));
  } catch (error) {
    if (error instanceof StageFailure) failure = error;
    else if (error instanceof InfrastructureError) infrastructure = error;
    else if ((error as NodeJS.ErrnoException).code === 'ENOSPC') failure = new OutOfDisk('no space left on device');
    else infrastructure = new RunnerError(`stage agent failed: ${(error as Error).message}`, { cause: error });
  }

  // Waited for only after a stage whose commands all ended well (each was measured after it, so
  // this one has long finished): after a failure, a `du` over what the commands left (millions of
  // files, say) must not hold up the log and the result before the deadline.
  if (!failure && !infrastructure) await restoredDisk;
  if (cache && (failure || infrastructure)) cacheReport = cache.unsaved('the stage did not succeed');
  if (failure) log.line(`== ${failure.name}: ${failure.message}`);
  if (infrastructure) log.line(`== infrastructure error ${infrastructure.name}: ${infrastructure.message}`);
  const finishedAt = deps.now();
  const durationMs = Math.max(0, finishedAt - startedAt);
  if (!infrastructure) log.line(`== ${failure ? failure.status : 'succeeded'} in ${(durationMs / 1000).toFixed(1)} s`);
  await log.close();

  // Nothing is lost: the log goes up whatever happened. When something already failed, that error is the one
  // reported (a store that refused artifacts will likely refuse the log too). The manifest goes up beside
  // the log (one round trip fewer per stage, on AWS as locally); the result, which points at both, after.
  const logStored = store(deps.store, stageLogKey(buildId, stage.name), log.contents(), 'text/plain; charset=utf-8').finally(() => log.release());
  const manifestStored = infrastructure ? undefined : store(deps.store, manifestKey(buildId, stage.name), JSON.stringify(manifest), 'application/json');
  // Settled either way before anything is thrown: no PUT left running unobserved.
  manifestStored?.catch(() => undefined);
  try {
    await logStored;
  } catch (error) {
    await manifestStored?.catch(() => undefined);
    throw infrastructure ?? error;
  }
  if (infrastructure) throw infrastructure;
  await manifestStored;

  const artifacts = manifest.artifacts;
  const result: StageResult = {
    buildId,
    stage: stage.name,
    status: failure ? failure.status : 'succeeded',
    runner: job.runner,
    exitCode: failure ? failure.exitCode : 0,
    ...(failure ? { errorName: failure.name } : {}),
    reason: failure ? log.mask(failure.message) : `${stage.commands.length} commands succeeded`,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs,
    peakMemoryMiB: Math.ceil(peaks.memoryBytes / MiB),
    peakDiskMiB: Math.ceil(peaks.diskBytes / MiB),
    ...(peaks.cpu ? { cpuUsage: peaks.cpu } : {}),
    logKey: stageLogKey(buildId, stage.name),
    manifestKey: manifestKey(buildId, stage.name),
    artifactCount: artifacts.length,
    artifactBytes: artifacts.reduce((sum, entry) => sum + entry.size, 0),
    logBytes: log.outputBytes,
    // This record's own PUT is about to be made: it is counted here, as it cannot count itself.
    ...(deps.s3Requests ? { s3Requests: deps.s3Requests() } : {}),
    ...(job.invocation ? { lambdaInvocation: { durationMs: Math.max(0, deps.now() - job.invocation.startedAt), initDurationMs: job.invocation.initDurationMs } } : {}),
    ...(cacheReport ? { cache: cacheReport } : {}),
    phases: clock.phases,
  };
  if (result.s3Requests) result.s3Requests = { ...result.s3Requests, put: result.s3Requests.put + 1 };
  await store(deps.store, stageResultKey(buildId, stage.name), JSON.stringify(result), 'application/json');
  return result;
}

async function store(target: ArtifactStore, key: string, body: Parameters<ArtifactStore['put']>[1], type: string) {
  try {
    await target.put(key, body, type);
  } catch (error) {
    const Failure = key.endsWith('manifest.json') ? ArtifactUploadFailed : ResultUploadFailed;
    throw new Failure(`could not store ${key}: ${(error as Error).message}`, { cause: error });
  }
}
