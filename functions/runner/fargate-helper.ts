/**
 * The Fargate task's helper, bundled on its own (scripts/bundle.mjs and the
 * fargate-prepare function's second entry point) and run by the stock Node.js
 * image in two containers of every build task:
 *
 * - `fetch` (BUILDFARM_HELPER_MODE=fetch): reads the stage from the plan in S3,
 *   materialises the workspace (snapshot and upstream artifacts, through the same
 *   stage-agent code the Lambda runner uses), writes the build container's scripts,
 *   and hands the workspace to the build user. A stage's secrets are resolved here
 *   (never for a fork's pull request) and left for the build user alone, one file per
 *   variable, which the build container's script loads and deletes before any command
 *   runs (domain/fargate/stage-script.ts). On failure it records the stage's result
 *   itself and exits non-zero, so the build container never starts.
 * - `publish` (BUILDFARM_HELPER_MODE=publish): reads the build container's exit
 *   code from the task metadata endpoint v4, uploads the log (secret values masked,
 *   as the Lambda runner's agent masks them), the artifacts (after a success) and the
 *   manifest, and writes the result record the report reads.
 *
 * The stage agent's pieces (workspace.ts, artifacts.ts, the S3 store) come in through
 * `HelperDeps`, so this file holds only what is specific to the three-container
 * layout; `helperDepsFromEnv` wires the real ones, and the module runs itself when
 * BUILDFARM_HELPER_MODE is set (the bootstrap `require`s it, publish runs it with node).
 */
import { createHash } from 'node:crypto';
import { constants, createReadStream, openSync } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, Readable, Transform } from 'node:stream';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { LambdaStageAccessSource } from '../adapters/aws/lambda-stage-access-source.js';
import { S3ArtifactStore } from '../adapters/aws/s3-artifact-store.js';
import { S3RequestCounter } from '../adapters/aws/s3-request-counter.js';
import type { S3RequestCount } from '../domain/report/cost-model.js';
import { commandsScript, secretFile, stageScript, timedOutMarker, type ScriptPaths } from '../domain/fargate/stage-script.js';
import { STAGE_TIMEOUT_EXIT_CODE } from '../domain/fargate/task-timeout.js';
import { buildOutcome, type BuildOutcome } from '../domain/fargate/task-metadata.js';
import type { ContainerUsage } from '../domain/fargate/container-stats.js';
import { cpuUsage, type CpuUsage } from '../domain/sizing/cpu-usage.js';
import { readContainerUsage, USAGE_FILE } from './container-usage.js';
import { runLiveLog } from './live-log-container.js';
import { fetchTaskMetadata, HelperMisconfigured } from './task-metadata-endpoint.js';

import { DISK_RESERVE_BYTES, ENV, HELPER_PATH, HOME_PATH, LIVE_LOG_CONTAINER, LOGS_PATH, WORKSPACE_PATH } from '../domain/fargate/layout.js';
import type { StageCacheReport } from '../domain/cache/cache-report.js';
import type { CacheScope } from '../domain/cache/scope.js';
import type { PlannedStage } from '../domain/plan/types.js';
import { artifactSources } from '../domain/plan/artifact-sources.js';
import type { ArtifactManifest, StageResult } from '../domain/report/types.js';
import { manifestKey, stageLogKey, stageResultKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SecretsProvider } from '../ports/secrets.js';
import { findArtifacts, uploadArtifacts } from './artifacts.js';
import { restoreInFetch, saveInPublish } from './cache/fargate-cache.js';
import { PlanMissing, SecretsDeniedForFork, SecretUnavailable, StageNotInPlan } from './errors.js';
import { releaseDiskReserve, setAsideDiskReserve } from './disk-reserve.js';
import { readStageSlice } from './planned-stage.js';
import { capStream } from './log-cap.js';
import { SecretMasker } from './secret-masker.js';
import { StageSession } from './stage-session.js';
import { StageLog } from './stage-log.js';
import { prepareWorkspace } from './workspace.js';

// Where they lived before: tests and callers import them from here.
export { fetchTaskMetadata, HelperMisconfigured, runLiveLog };

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

/** What both modes read from their environment (task definition plus RunTask overrides). */
export interface HelperContext {
  buildId: string;
  stageName: string;
  planKey: string;
  workspace: string;
  workspaceUid: number;
  /** A pull request from a fork: its stage gets no secrets. */
  fromFork: boolean;
  /** The helper volume (scripts, helper code), /buildfarm in the task. */
  helperDir: string;
  /** The logs volume, /buildfarm-logs in the task. */
  logsDir: string;
  /** The HOME volume (layout.ts HOME_PATH), where the cache of `~/...` paths is restored and saved. */
  homeDir?: string;
}

function scriptPaths(context: HelperContext): ScriptPaths {
  return {
    workspace: context.workspace,
    commandsScript: join(context.helperDir, 'commands.sh'),
    logFile: join(context.logsDir, 'log.txt'),
    exitCodeFile: join(context.logsDir, 'exit-code'),
    secretsDir: join(context.logsDir, 'secrets'),
  };
}

/** Where fetch leaves the secret values' hashes for publish (see layout.ts SECRET_HASHES_FILE). */
function secretHashesFile(context: HelperContext): string {
  return join(context.helperDir, 'secret-hashes.json');
}

const GiB = 1024 ** 3;

/** The reserve fetch sets aside on the task's storage (layout.ts DISK_RESERVE_FILE). */
function diskReserveFile(context: HelperContext): string {
  return join(context.helperDir, 'disk-reserve');
}

const NO_ARTIFACTS: ArtifactManifest = { version: 2, archive: null, artifacts: [] };

/** Where fetch notes its start time for publish (the result's startedAt). */
/** Fetch's S3 request count, handed to publish (which writes the result record) on the helper volume. */
function fetchRequestsFile(context: HelperContext): string {
  return join(context.helperDir, 's3-requests-fetch.json');
}

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

function startedFile(context: HelperContext): string {
  return join(context.helperDir, 'started-at');
}

export function contextFromEnv(env: NodeJS.ProcessEnv): HelperContext {
  const missing = [ENV.buildId, ENV.stage, ENV.planKey].filter((name) => !env[name]);
  if (missing.length > 0) throw new HelperMisconfigured(`missing ${missing.join(', ')}`);
  return {
    buildId: env[ENV.buildId]!,
    stageName: env[ENV.stage]!,
    planKey: env[ENV.planKey]!,
    workspace: env[ENV.workspace] || WORKSPACE_PATH,
    workspaceUid: Number(env[ENV.workspaceUid] ?? '65534'),
    fromFork: env[ENV.fromFork] === 'true',
    helperDir: HELPER_PATH,
    logsDir: LOGS_PATH,
    homeDir: HOME_PATH,
  };
}

async function readPlanned(context: HelperContext, store: ArtifactStore): Promise<{ stage: PlannedStage; cacheScope?: CacheScope }> {
  try {
    const slice = await readStageSlice(store, context.planKey, context.stageName);
    return { stage: slice.stage, ...(slice.cacheScope ? { cacheScope: slice.cacheScope } : {}) };
  } catch (error) {
    if (error instanceof PlanMissing || error instanceof StageNotInPlan) throw new HelperMisconfigured(error.message);
    throw error;
  }
}

/** Gives a tree to the build user (the volumes are created root-owned). */
async function chownTree(path: string, uid: number): Promise<void> {
  await chown(path, uid, uid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) await chownTree(child, uid);
    // The link itself (lchown), never what it points to: links kept from artifacts stay put.
    else if (entry.isSymbolicLink()) await lchown(child, uid, uid).catch(() => undefined);
    else await chown(child, uid, uid).catch(() => undefined);
  }
}

export async function runFetch(context: HelperContext, deps: HelperDeps): Promise<void> {
  const startedAt = deps.now();
  await writeFile(startedFile(context), String(startedAt)).catch(() => undefined);
  if (!(await setAsideDiskReserve(diskReserveFile(context), DISK_RESERVE_BYTES).catch(() => false))) {
    deps.log.line('warning: no room to set aside the disk reserve; a stage that fills the disk may not be reported as OutOfDisk');
  }
  let stage: PlannedStage | undefined;
  try {
    const planned = await readPlanned(context, deps.store);
    stage = planned.stage;
    deps.log.line(`== fetch ${stage.name} (build ${context.buildId})`);
    const secretNames = Object.keys(stage.secrets ?? {});
    if (secretNames.length > 0 && context.fromFork) {
      throw new SecretsDeniedForFork(
        `stage "${stage.name}" needs secrets (${secretNames.join(', ')}), which are never given to pull requests from forks`,
      );
    }
    // Read first, as the Lambda runner does: a missing secret fails the stage before any download.
    const secretValues = await resolveSecrets(stage, deps.secrets);
    await deps.prepareWorkspace(
      {
        buildId: context.buildId,
        artifactsFrom: artifactSources(stage),
        workspace: context.workspace,
        limitBytes: stage.fargate.ephemeralStorageGiB * GiB,
        limitIsDisk: true,
      },
      deps.store,
      deps.log,
    );
    await mkdir(context.helperDir, { recursive: true });
    if (context.homeDir) await restoreInFetch({ ...context, homeDir: context.homeDir }, stage, planned.cacheScope, deps.store, deps.log, stage.fargate.ephemeralStorageGiB * GiB);
    const paths = scriptPaths(context);
    await writeFile(paths.commandsScript, commandsScript(stage.commands, paths), { mode: 0o755 });
    await writeFile(join(context.helperDir, 'stage.sh'), stageScript(stage, paths), { mode: 0o755 });
    if (context.workspaceUid !== 0) {
      await chownTree(context.workspace, context.workspaceUid);
      await chown(context.logsDir, context.workspaceUid, context.workspaceUid);
    }
    if (secretNames.length > 0) {
      await handOverSecrets(secretValues, context);
      deps.log.line(`secrets for the build user: ${secretNames.join(', ')}`);
    }
    if (deps.s3Requests) await writeFile(fetchRequestsFile(context), JSON.stringify(deps.s3Requests()));
  } catch (error) {
    // Nothing of a secret may outlive a fetch that failed.
    await rm(scriptPaths(context).secretsDir, { recursive: true, force: true }).catch(() => undefined);
    // The build container will not start (it depends on fetch's SUCCESS): record why now.
    await writeResult(context, deps, {
      startedAt,
      outcome: { exitCode: null },
      failure: { name: (error as Error).name || 'StageError', message: (error as Error).message },
      manifest: NO_ARTIFACTS,
    });
    throw error;
  }
}

/** Resolves every secret of the stage (none for a fork: fetch refused it before). */
async function resolveSecrets(stage: PlannedStage, provider: SecretsProvider): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const [name, ref] of Object.entries(stage.secrets ?? {})) {
    try {
      values[name] = await provider.resolve(ref);
    } catch (error) {
      throw new SecretUnavailable(`secret ${name} (${ref.raw}) could not be read: ${(error as Error).message}`, { cause: error });
    }
  }
  return values;
}

function sha256(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

/**
 * Writes the values for the build user: a directory only it can enter (0700), one file
 * per variable only it can read (0400), raw bytes (the stage script assigns them without
 * parsing). The hashes go first, readable by the helpers' user only, so publish can tell
 * whether the values it reads again to mask the log are the ones the build saw.
 */
async function handOverSecrets(values: Record<string, string>, context: HelperContext): Promise<void> {
  const paths = scriptPaths(context);
  const hashes = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, sha256(value)]));
  await rm(secretHashesFile(context), { force: true });
  await writeFile(secretHashesFile(context), JSON.stringify(hashes), { mode: 0o400, flag: 'wx' });
  await rm(paths.secretsDir, { recursive: true, force: true });
  await mkdir(paths.secretsDir, { mode: 0o700 });
  await chmod(paths.secretsDir, 0o700); // mkdir's mode is filtered by the umask
  for (const [name, value] of Object.entries(values)) {
    const file = secretFile(name, paths);
    // 'wx': never follow or reuse something already there.
    await writeFile(file, value, { mode: 0o400, flag: 'wx' });
    await chmod(file, 0o400);
    await chown(file, context.workspaceUid, context.workspaceUid);
  }
  await chown(paths.secretsDir, context.workspaceUid, context.workspaceUid);
}

/** How publish treats the log: masked with these values, or withheld (it could not be masked safely). */
type LogMasking = { values: string[] } | { withheld: string };

/**
 * Reads the secrets again to mask the log (no plaintext was kept after the build). If one
 * cannot be read, or is no longer the value the build saw (rotated meanwhile), the log
 * may hold a value nothing can mask: it is withheld rather than uploaded.
 */
async function logMasking(stage: PlannedStage, context: HelperContext, deps: HelperDeps): Promise<LogMasking> {
  const names = Object.keys(stage.secrets ?? {});
  if (names.length === 0 || context.fromFork) return { values: [] };
  let values: Record<string, string>;
  try {
    values = await resolveSecrets(stage, deps.secrets);
  } catch (error) {
    return { withheld: `${(error as Error).message}, so the log could not be masked` };
  }
  const handed = await readFile(secretHashesFile(context), 'utf8').then(
    (text) => JSON.parse(text) as Record<string, string>,
    () => undefined, // fetch failed before handing any secret over: the build had none
  );
  const changed = names.filter((name) => handed?.[name] !== undefined && handed[name] !== sha256(values[name]!));
  if (changed.length > 0) {
    return { withheld: `secret ${changed.join(', ')} changed during the build, so the log could hold the previous value unmasked` };
  }
  return { values: Object.values(values) };
}

/** The log file's bytes through the agent's masker (a secret split across chunks is still caught). */
function maskedLog(path: string, values: string[]): Readable {
  const masker = new SecretMasker(values);
  const masking = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, masker.push(chunk));
    },
    flush(callback) {
      callback(null, masker.flush());
    },
  });
  const file = readLogFile(path);
  file.on('error', (error) => masking.destroy(error));
  return file.pipe(masking);
}

/**
 * The build user wrote the logs volume: never follow a link it may have put in the log's
 * place (to a helper's /proc/self/environ, which holds the grant), never block on a FIFO.
 */
function readLogFile(path: string): Readable {
  return createReadStream(path, { fd: openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK) });
}

/** The log through the stage-log cap; a read error fails the upload instead of truncating silently. */
function cappedLog(source: Readable, capBytes?: number): Readable {
  return pipeline(source, capStream(capBytes), () => undefined);
}

export async function runPublish(context: HelperContext, deps: HelperDeps): Promise<StageResult> {
  const { stage, cacheScope } = await readPlanned(context, deps.store);
  // The build deletes the secret files before its commands run; if it never got that far, publish does.
  await rm(scriptPaths(context).secretsDir, { recursive: true, force: true });
  const masking = await logMasking(stage, context, deps);
  if ('withheld' in masking) deps.log.line(`warning: the stage log is withheld: ${masking.withheld}`);
  const outcome = buildOutcome(await deps.taskMetadata());
  // Before anything else writes: how full the task's storage was when the commands stopped.
  const disk = await releaseDiskReserve(diskReserveFile(context), context.workspace).catch(() => undefined);
  const startedText = await readFile(startedFile(context), 'utf8').catch(() => undefined);
  const startedAt = startedText ? Number(startedText) : deps.now();

  let manifest: ArtifactManifest = NO_ARTIFACTS;
  let failure: { name: string; message: string } | undefined;
  if (outcome.exitCode === 0) {
    try {
      const found = await deps.findArtifacts(context.workspace, stage.artifacts);
      for (const pattern of found.unmatched) deps.log.line(`warning: artifact path "${pattern}" matched no file`);
      manifest = await deps.uploadArtifacts(
        context.workspace,
        found.files,
        { buildId: context.buildId, stage: stage.name },
        deps.store,
      );
    } catch (error) {
      failure = { name: (error as Error).name, message: (error as Error).message };
    }
  } else if (outcome.exitCode === STAGE_TIMEOUT_EXIT_CODE && (await stat(timedOutMarker(scriptPaths(context))).then(() => true, () => false))) {
    // The build container's watchdog stopped the commands at the stage's timeout (stage-script.ts).
    failure = { name: 'StageTimeout', message: `the stage ran longer than its timeout of ${stage.timeoutSeconds} s` };
  } else if (outcome.exitCode !== null && disk?.wasFull) {
    failure = {
      name: 'OutOfDisk',
      message: `a command exited with code ${outcome.exitCode} with the task's ephemeral storage (${stage.fargate.ephemeralStorageGiB} GiB, shared by the workspace and the containers) full; raise resources.disk`,
    };
  } else {
    failure =
      outcome.exitCode === null
        ? { name: 'StageError', message: 'the build container did not run to completion' }
        : { name: 'CommandFailed', message: `a command exited with code ${outcome.exitCode}` };
  }
  const cache = context.homeDir
    ? await saveInPublish({ ...context, homeDir: context.homeDir }, stage, cacheScope, deps.store, deps.log, { succeeded: outcome.exitCode === 0 && !failure, now: deps.now })
    : undefined;
  const usage = await deps.containerUsage?.().catch(() => undefined);
  return writeResult(context, deps, { startedAt, outcome, failure, manifest, masking, logLimitBytes: stage.logLimitBytes, cache, ...(usage ? { usage } : {}) });
}

async function writeResult(
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

/** Runs the mode named in the environment; exit code 0 means the result record is written. */
export async function runHelper(env: NodeJS.ProcessEnv, deps: HelperDeps): Promise<number> {
  const context = contextFromEnv(env);
  const mode = env[ENV.mode];
  if (mode === 'fetch') {
    await runFetch(context, deps);
    return 0;
  }
  if (mode === 'publish') {
    const result = await runPublish(context, deps);
    deps.log.line(`== ${result.stage}: ${result.status}${result.exitCode !== null ? ` (exit ${result.exitCode})` : ''}`);
    return 0;
  }
  throw new HelperMisconfigured(`${ENV.mode} must be fetch or publish, not "${mode ?? ''}"`);
}

/**
 * The real pieces: the stage agent's workspace and artifact code on the S3 artifact store,
 * through the stage's own session. The task role can do nothing but invoke StageCredentials
 * (and read the helper bundle), because every container of the task, the build container
 * included, can fetch its credentials; the helpers trade the stage's grant (in their own
 * overrides, never the build container's) for an S3 session scoped to the stage and for
 * its declared secrets. Publish asks afresh when it starts, so a stage longer than a
 * session (at most an hour) still publishes.
 */
export async function helperDepsFromEnv(env: NodeJS.ProcessEnv): Promise<HelperDeps> {
  const bucket = env[ENV.bucket];
  const region = env[ENV.region];
  const grant = env[ENV.grant];
  const functionName = env[ENV.stageCredentialsFunction];
  if (!bucket || !region) throw new HelperMisconfigured(`${ENV.bucket} and ${ENV.region} must be set`);
  if (!grant || !functionName) throw new HelperMisconfigured(`${ENV.grant} and ${ENV.stageCredentialsFunction} must be set`);
  // Lines go to stdout (the awslogs driver ships them to CloudWatch) and to a file on the logs volume.
  const log = new StageLog(join(LOGS_PATH, `${env[ENV.mode] ?? 'helper'}.txt`), process.stdout);
  const session = await StageSession.open(new LambdaStageAccessSource(new LambdaClient({ region }), functionName), grant);
  const requests = new S3RequestCounter();
  // The bootstrap's signed GetObject of this helper (domain/fargate/bootstrap.ts), retries included.
  for (let i = 0; i < (Number(env[ENV.helperDownloads]) || 0); i += 1) requests.record('GetObjectCommand');
  return {
    store: new S3ArtifactStore(requests.attach(new S3Client({ region, credentials: session.credentialProvider })), bucket),
    s3Requests: () => requests.snapshot(),
    secrets: session.secretsProvider(),
    prepareWorkspace,
    findArtifacts,
    uploadArtifacts,
    keys: { stageLogKey, manifestKey, stageResultKey },
    log,
    now: Date.now,
    taskMetadata: () => fetchTaskMetadata(env),
    containerUsage: () => readContainerUsage(USAGE_FILE),
  };
}

// Runs only inside the task's helper containers; importing the module (tests, bundling) does nothing.
if (process.env[ENV.mode] === LIVE_LOG_CONTAINER) {
  runLiveLog(process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`buildfarm live-log failed: ${error.name}: ${error.message}`);
      process.exitCode = 1;
    },
  );
} else if (process.env[ENV.mode]) {
  Promise.resolve()
    .then(async () => runHelper(process.env, await helperDepsFromEnv(process.env)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: Error) => {
        console.error(`buildfarm ${process.env[ENV.mode]} failed: ${error.name}: ${error.message}`);
        process.exitCode = 1;
      },
    );
}
