/**
 * The local farm's build keeper. It is the WorkflowStarter the start-build
 * logic calls (as Step Functions is on AWS): `start` with the execution name
 * runs the build once, a second `start` with the same name is a duplicate.
 * It also answers the dashboard (BuildService), keeps records on disk, and
 * stops running builds on Ctrl-C.
 */
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import type { BusMessage, LocalBus } from '../adapters/local/local-bus.js';
import type { ArtifactManifest, StageResult } from '../domain/report/types.js';
import { artifactArchiveKey, manifestKey, stageLogKey } from '../domain/storage-keys.js';
import { readArchiveMember } from '../runner/archive/read-member.js';
import { safeSegments } from '../runner/artifact-path.js';
import type { ArtifactStore, ObjectRead, RangeRequest } from '../ports/artifact-store.js';
import type { RunningBuild } from '../domain/webhook/execution-input.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { StartedWorkflow, WorkflowStarter } from '../ports/workflow-starter.js';
import { isFinal, summarise, type BuildExecutionInput, type BuildRecord, type BuildSummary, type StageProgress } from './build-record.js';
import type { BuildProgress, BuildRunner } from './build-runner.js';
import type { BuildDetail, BuildListener, BuildService } from './build-service.js';
import type { BuildStore } from './build-store.js';
import { resolveRange } from './byte-range.js';

/** Builds run at once; more wait their turn (the machine, not the farm, is the limit locally). */
export const DEFAULT_MAX_CONCURRENT_BUILDS = 2;
/** A running stage's log kept in memory for the live view; older output is dropped from the front. */
const LIVE_LOG_LIMIT = 1024 * 1024;
const EXECUTION_ARN_PREFIX = 'arn:aws:states:local:000000000000:execution:buildfarm-local:';

/** What the CLI prints progress from. */
export type FarmEvent =
  | { type: 'queued' | 'started' | 'planned' | 'finished'; build: BuildRecord }
  | { type: 'stage-started' | 'stage-finished'; build: BuildRecord; stage: StageProgress };

export interface LocalFarmOptions {
  store: BuildStore;
  runner: BuildRunner;
  artifacts: ArtifactStore;
  bus: LocalBus;
  now?: () => Date;
  maxConcurrentBuilds?: number;
  onEvent?: (event: FarmEvent) => void;
  /** A build record that could not be written (the build goes on; the next save tries again). */
  onError?: (error: unknown) => void;
}

export class InvalidExecutionInput extends Error {
  override readonly name = 'InvalidExecutionInput';
}

export class LocalFarm implements WorkflowStarter, RunningBuilds, BuildService {
  private readonly now: () => Date;
  private readonly maxConcurrent: number;
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly liveLogs = new Map<string, string>();
  private readonly listeners = new Set<BuildListener>();
  private readonly settledWaiters = new Map<string, Array<(record: BuildRecord) => void>>();
  private closing = false;

  constructor(private readonly options: LocalFarmOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxConcurrent = Math.max(1, options.maxConcurrentBuilds ?? DEFAULT_MAX_CONCURRENT_BUILDS);
  }

  // --- WorkflowStarter -------------------------------------------------------

  async start(name: string, input: unknown): Promise<StartedWorkflow> {
    const executionArn = EXECUTION_ARN_PREFIX + name;
    if (this.options.store.has(name)) return { executionArn, alreadyStarted: true };
    if (this.closing) throw new Error('the local farm is shutting down');
    const execution = parseInput(input);
    const record: BuildRecord = {
      id: name,
      request: execution.request,
      state: 'queued',
      queuedAt: this.now().toISOString(),
      stages: [],
    };
    try {
      await this.options.store.save(record);
    } catch (error) {
      // Not kept (a full disk): the delivery stays on the bus and the next start replays it.
      await this.options.store.remove(name);
      throw error;
    }
    this.queue.push(name);
    this.emit({ type: 'queued', build: record });
    this.pump();
    return { executionArn, alreadyStarted: false };
  }

  async stop(executionArn: string, reason: string): Promise<void> {
    const id = executionArn.startsWith(EXECUTION_ARN_PREFIX) ? executionArn.slice(EXECUTION_ARN_PREFIX.length) : executionArn;
    const queued = this.queue.indexOf(id);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      const record = this.options.store.get(id);
      if (record !== undefined) await this.finish(record, 'cancelled', { name: 'Cancelled', message: reason });
      return;
    }
    this.running.get(id)?.controller.abort(new Error(reason));
  }

  /**
   * The queued and running builds of `repository` on `branch` (what ListExecutions RUNNING
   * finds on AWS, where a queued build is already a running execution), for the Plan step of
   * a build whose pipeline file sets `cancel-superseded`.
   */
  async findRunning(repository: string, branch: string): Promise<RunningBuild[]> {
    const ids = [...this.queue, ...this.running.keys()];
    const builds: RunningBuild[] = [];
    for (const id of ids) {
      const record = this.options.store.get(id);
      if (record === undefined || isFinal(record.state)) continue;
      if (record.request.repository.toLowerCase() !== repository.toLowerCase() || record.request.branch !== branch) continue;
      builds.push({ executionArn: EXECUTION_ARN_PREFIX + id, input: { buildId: id, request: record.request } });
    }
    return builds;
  }

  // --- BuildService ------------------------------------------------------------

  list(): BuildSummary[] {
    const now = this.now();
    return this.options.store.all().map((record) => summarise(record, now));
  }

  get(id: string): BuildDetail | undefined {
    const record = this.options.store.get(id);
    if (record === undefined) return undefined;
    return {
      ...summarise(record, this.now()),
      finishedAt: record.finishedAt ?? null,
      request: record.request,
      plan: record.plan ?? null,
      stages: record.stages,
      report: record.report ?? null,
      error: record.error ?? null,
      reportMessage: this.reportMessage(id) ?? null,
    };
  }

  async log(id: string, stage: string, range?: RangeRequest): Promise<ObjectRead | 'unsatisfiable' | undefined> {
    const live = this.liveLogs.get(logSlot(id, stage));
    if (live !== undefined) return readBuffer(Buffer.from(live), range);
    const record = this.options.store.get(id);
    if (record === undefined) return undefined;
    const key = record.report?.stages.find((s) => s.name === stage)?.logKey ?? stageLogKey(id, stage);
    // Streamed from the store: a stored log is capped (64 MiB by default) but never read whole here.
    if (this.options.artifacts.read !== undefined) return this.options.artifacts.read(key, range);
    const text = await this.options.artifacts.getText(key);
    return text === undefined ? undefined : readBuffer(Buffer.from(text), range);
  }

  /**
   * One artifact, streamed out of the stage's archive (read up to that file, no further). A link is
   * served as the file it points to in the same archive.
   */
  async artifact(id: string, stage: string, path: string): Promise<Readable | undefined> {
    const record = this.options.store.get(id);
    const listed = record?.report?.stages.find((s) => s.name === stage)?.artifacts.find((a) => a.path === path);
    // Only what a stage's manifest lists is served: no reading other keys through crafted paths.
    if (!listed) return undefined;
    const member = listed.type === 'symlink' ? posix.join(posix.dirname(path), listed.target ?? '') : path;
    if (safeSegments(member) === undefined) return undefined;
    const manifestText = await this.options.artifacts.getText(manifestKey(id, stage));
    const manifest = manifestText === undefined ? undefined : (JSON.parse(manifestText) as Partial<ArtifactManifest>);
    if (!manifest?.archive) return undefined;
    const archive = await this.options.artifacts.get(artifactArchiveKey(id, stage));
    if (archive === undefined) return undefined;
    return readArchiveMember(archive, member, manifest.archive.compression);
  }

  onChange(listener: BuildListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // --- the rest ----------------------------------------------------------------

  /** The BuildReports message published for build `id`, if any. */
  reportMessage(id: string): BusMessage | undefined {
    return this.options.bus
      .messages('BuildReports')
      .reverse()
      .find((message) => message.attributes.buildId === id || parseBuildId(message.message) === id);
  }

  /** Resolves with the record once build `id` has a final state. */
  settled(id: string): Promise<BuildRecord> {
    const record = this.options.store.get(id);
    if (record !== undefined && isFinal(record.state)) return Promise.resolve(record);
    return new Promise((resolve) => {
      const waiters = this.settledWaiters.get(id) ?? [];
      waiters.push(resolve);
      this.settledWaiters.set(id, waiters);
    });
  }

  /**
   * Ctrl-C: queued builds are cancelled, running ones are aborted (their
   * stages end their processes) and marked cancelled once they settle.
   */
  async shutdown(reason = 'the local farm was stopped'): Promise<void> {
    this.closing = true;
    for (const id of this.queue.splice(0)) {
      const record = this.options.store.get(id);
      if (record !== undefined) await this.finish(record, 'cancelled', { name: 'Cancelled', message: reason });
    }
    const running = [...this.running.values()];
    for (const build of running) build.controller.abort(new Error(reason));
    await Promise.allSettled(running.map((build) => build.done));
    await this.options.store.flush();
  }

  private pump(): void {
    while (!this.closing && this.running.size < this.maxConcurrent && this.queue.length > 0) {
      const id = this.queue.shift()!;
      const record = this.options.store.get(id);
      if (record === undefined) continue;
      const controller = new AbortController();
      const done = this.execute(record, controller.signal).finally(() => {
        this.running.delete(id);
        this.pump();
      });
      this.running.set(id, { controller, done });
    }
  }

  private async execute(record: BuildRecord, signal: AbortSignal): Promise<void> {
    record.state = 'running';
    record.startedAt = this.now().toISOString();
    await this.changed(record, { type: 'started', build: record });
    try {
      const report = await this.options.runner.run(
        { buildId: record.id, request: record.request },
        {
          signal,
          // After a stop, stages killed on the way out report as failed: the build is cancelled, so are they.
          progress: ignoredAfter(signal, {
            planned: (plan) => {
              record.plan = plan;
              record.stages = plan.stages.map((stage) => ({
                name: stage.name,
                wave: stage.wave,
                runner: stage.runner,
                reason: stage.reason,
                needs: stage.needs,
                lambda: stage.lambda,
                fargate: stage.runner === 'fargate' ? stage.fargate : undefined,
                status: 'pending',
                predictedCostUsd: stage.predictedCostUsd,
              }));
              void this.changed(record, { type: 'planned', build: record });
            },
            stageStarted: (name, at) => {
              const stage = this.stage(record, name);
              stage.status = 'running';
              stage.startedAt = at.toISOString();
              this.liveLogs.set(logSlot(record.id, name), '');
              void this.changed(record, { type: 'stage-started', build: record, stage });
            },
            stageLog: (name, chunk) => {
              const slot = logSlot(record.id, name);
              const text = (this.liveLogs.get(slot) ?? '') + chunk;
              this.liveLogs.set(slot, text.length > LIVE_LOG_LIMIT ? text.slice(text.length - LIVE_LOG_LIMIT) : text);
            },
            stageFinished: (result) => {
              const stage = this.stage(record, result.stage);
              applyResult(stage, result);
              this.liveLogs.delete(logSlot(record.id, result.stage));
              void this.changed(record, { type: 'stage-finished', build: record, stage });
            },
          }),
        },
      );
      record.report = report;
      mergeReport(record);
      const state = signal.aborted ? 'cancelled' : report.status;
      await this.finish(record, state, report.error ?? (signal.aborted ? cancelledBy(signal) : undefined));
    } catch (error) {
      if (signal.aborted) await this.finish(record, 'cancelled', cancelledBy(signal));
      else await this.finish(record, 'error', { name: (error as Error).name ?? 'Error', message: (error as Error).message ?? String(error) });
    } finally {
      for (const key of [...this.liveLogs.keys()]) if (key.startsWith(`${record.id}/`)) this.liveLogs.delete(key);
    }
  }

  private async finish(record: BuildRecord, state: BuildRecord['state'], error?: { name: string; message: string }): Promise<void> {
    record.state = state;
    record.finishedAt = record.report?.finishedAt ?? this.now().toISOString();
    if (error !== undefined) record.error = error;
    if (state === 'cancelled' || state === 'error' || state === 'interrupted') {
      for (const stage of record.stages) if (stage.status === 'running' || stage.status === 'pending') stage.status = 'cancelled';
    }
    await this.changed(record, { type: 'finished', build: record });
    const waiters = this.settledWaiters.get(record.id) ?? [];
    this.settledWaiters.delete(record.id);
    for (const resolve of waiters) resolve(record);
  }

  private stage(record: BuildRecord, name: string): StageProgress {
    let stage = record.stages.find((s) => s.name === name);
    if (stage === undefined) {
      // A stage the plan did not list (the runner reported before planning): show it anyway.
      stage = { name, wave: 0, runner: 'lambda', reason: '', needs: [], status: 'pending', predictedCostUsd: 0 };
      record.stages.push(stage);
    }
    return stage;
  }

  /** Saves, tells the CLI and the dashboard; never rejects (progress callbacks call it without waiting). */
  private async changed(record: BuildRecord, event: FarmEvent): Promise<void> {
    const saved = this.options.store.save(record).catch((error: unknown) => this.options.onError?.(error));
    this.options.onEvent?.(event);
    const summary = summarise(record, this.now());
    for (const listener of this.listeners) listener(summary);
    await saved;
  }

  private emit(event: FarmEvent): void {
    this.options.onEvent?.(event);
    const summary = summarise(event.build, this.now());
    for (const listener of this.listeners) listener(summary);
  }
}

/** Progress callbacks that do nothing once `signal` is aborted. */
function ignoredAfter(signal: AbortSignal, progress: BuildProgress): BuildProgress {
  return {
    planned(plan) {
      if (!signal.aborted) progress.planned(plan);
    },
    stageStarted(stage, at) {
      if (!signal.aborted) progress.stageStarted(stage, at);
    },
    stageLog(stage, chunk) {
      if (!signal.aborted) progress.stageLog(stage, chunk);
    },
    stageFinished(result) {
      if (!signal.aborted) progress.stageFinished(result);
    },
  };
}

function parseInput(input: unknown): BuildExecutionInput {
  const candidate = input as Partial<BuildExecutionInput> | null;
  if (typeof candidate?.buildId !== 'string' || typeof candidate.request?.repository !== 'string' || typeof candidate.request.sha !== 'string') {
    throw new InvalidExecutionInput('the execution input must be { buildId, request } with a BuildRequest');
  }
  return candidate as BuildExecutionInput;
}

function applyResult(stage: StageProgress, result: StageResult): void {
  stage.status = result.status;
  stage.runner = result.runner;
  stage.startedAt = result.startedAt;
  stage.finishedAt = result.finishedAt;
  stage.durationMs = result.durationMs;
  stage.outcome = result.reason;
  stage.errorName = result.errorName;
}

/** After the run, the report is the truth: costs, escalations, final statuses. */
function mergeReport(record: BuildRecord): void {
  for (const reported of record.report?.stages ?? []) {
    const stage = record.stages.find((s) => s.name === reported.name);
    const target: StageProgress = stage ?? {
      name: reported.name,
      wave: 0,
      runner: reported.runner,
      reason: '',
      needs: [],
      status: reported.status,
      predictedCostUsd: reported.predictedCostUsd,
    };
    target.status = reported.status;
    target.runner = reported.runner;
    target.outcome = reported.reason;
    target.errorName = reported.errorName;
    target.lambda = reported.lambda ?? target.lambda;
    target.fargate = reported.fargate ?? (reported.runner === 'fargate' ? target.fargate : undefined);
    target.startedAt = reported.startedAt ?? target.startedAt;
    target.finishedAt = reported.finishedAt ?? target.finishedAt;
    target.durationMs = reported.durationMs;
    target.costUsd = reported.costUsd;
    target.predictedCostUsd = reported.predictedCostUsd;
    target.escalated = reported.escalated;
    if (stage === undefined) record.stages.push(target);
  }
}

function cancelledBy(signal: AbortSignal): { name: string; message: string } {
  const reason = signal.reason as unknown;
  return { name: 'Cancelled', message: reason instanceof Error ? reason.message : String(reason ?? 'cancelled') };
}

/** A log held in memory (the live view), as the store would serve it. */
function readBuffer(bytes: Buffer, range: RangeRequest | undefined): ObjectRead | 'unsatisfiable' {
  if (range === undefined) return { body: Readable.from([bytes]), length: bytes.length, total: bytes.length };
  const resolved = resolveRange(range, bytes.length);
  if (resolved === undefined) return 'unsatisfiable';
  const part = bytes.subarray(resolved.start, resolved.end + 1);
  return { body: Readable.from([part]), length: part.length, total: bytes.length, range: resolved };
}

function logSlot(id: string, stage: string): string {
  return `${id}/${stage}`;
}

function parseBuildId(message: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { buildId?: unknown };
    return typeof parsed.buildId === 'string' ? parsed.buildId : undefined;
  } catch {
    return undefined;
  }
}
