/**
 * The local farm's build keeper. It is the WorkflowStarter the start-build
 * logic calls (as Step Functions is on AWS): `start` with the execution name
 * runs the build once, a second `start` with the same name is a duplicate.
 * It also answers the dashboard (BuildService), keeps records on disk, and
 * stops running builds on Ctrl-C.
 */
import type { Readable } from 'node:stream';
import type { BusMessage, LocalBus } from '../adapters/local/local-bus.js';
import type { RunningBuild } from '../domain/webhook/execution-input.js';
import type { ArtifactStore, ObjectRead, RangeRequest } from '../ports/artifact-store.js';
import type { RunningBuilds } from '../ports/running-builds.js';
import type { StartedWorkflow, WorkflowStarter } from '../ports/workflow-starter.js';
import { cancelledBy, ignoredAfter } from './build-cancellation.js';
import { isFinal, summarise, type BuildRecord, type BuildSummary, type StageProgress } from './build-record.js';
import { mergeReport, recordingProgress } from './build-record-progress.js';
import { alsoTo } from './build-progress-fanout.js';
import type { BuildProgress, BuildRunner } from './build-runner.js';
import type { BuildDetail, BuildListener, BuildService } from './build-service.js';
import type { BuildStore } from './build-store.js';
import type { LocalSourceMapping } from './farm-context.js';
import { parseExecutionInput } from './farm-execution-input.js';
import { LiveStageLogs } from './live-stage-logs.js';
import { readStoredArtifact, readStoredLog } from './stored-stage-output.js';

/** Builds run at once; more wait their turn (the machine, not the farm, is the limit locally). */
export const DEFAULT_MAX_CONCURRENT_BUILDS = 2;
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

export class LocalFarm implements WorkflowStarter, RunningBuilds, BuildService {
  private readonly now: () => Date;
  private readonly maxConcurrent: number;
  private readonly queue: string[] = [];
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly liveLogs = new LiveStageLogs();
  private readonly listeners = new Set<BuildListener>();
  private readonly settledWaiters = new Map<string, Array<(record: BuildRecord) => void>>();
  /** Builds `buildfarm run` handed over (run-handoff/): the repository each is built from, and who follows it. */
  private readonly handedOver = new Map<string, { repository: LocalSourceMapping; progress: BuildProgress }>();
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
    const execution = parseExecutionInput(input);
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

  /**
   * A build `buildfarm run` hands over: queued like a webhook's, built from `repository` (which
   * need not be one of the farm's mappings), its progress told to `progress` as well.
   */
  async startHandedOver(buildId: string, request: RunningBuild['input']['request'], repository: LocalSourceMapping, progress: BuildProgress): Promise<void> {
    if (this.options.store.has(buildId)) throw new Error(`a build named ${buildId} already exists on this farm`);
    this.handedOver.set(buildId, { repository, progress });
    try {
      await this.start(buildId, { buildId, request });
    } catch (error) {
      this.handedOver.delete(buildId);
      throw error;
    }
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
   * a build whose pipeline file sets `cancel-superseded`. Builds `buildfarm run` handed over are
   * not listed: in its own process such a run is never superseded, and two checkouts named alike
   * (`local/app`) are not one repository.
   */
  async findRunning(repository: string, branch: string): Promise<RunningBuild[]> {
    const ids = [...this.queue, ...this.running.keys()];
    const builds: RunningBuild[] = [];
    for (const id of ids) {
      const record = this.options.store.get(id);
      if (record === undefined || isFinal(record.state) || this.handedOver.has(id)) continue;
      if (record.request.repository.toLowerCase() !== repository.toLowerCase() || record.request.branch !== branch) continue;
      builds.push({ executionArn: EXECUTION_ARN_PREFIX + id, input: { buildId: id, request: record.request } });
    }
    return builds;
  }

  /** Builds queued or running now. */
  busy(): number {
    return this.queue.length + this.running.size;
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
    const live = this.liveLogs.read(id, stage, range);
    if (live !== undefined) return live;
    const record = this.options.store.get(id);
    if (record === undefined) return undefined;
    return readStoredLog(this.options.artifacts, record, id, stage, range);
  }

  /**
   * One artifact, streamed out of the stage's archive (read up to that file, no further). A link is
   * served as the file it points to in the same archive.
   */
  async artifact(id: string, stage: string, path: string): Promise<Readable | undefined> {
    return readStoredArtifact(this.options.artifacts, this.options.store.get(id), id, stage, path);
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
    const handedOver = this.handedOver.get(record.id);
    try {
      const report = await this.options.runner.run(
        { buildId: record.id, request: record.request },
        {
          signal,
          ...(handedOver ? { repository: handedOver.repository } : {}),
          // After a stop, stages killed on the way out report as failed: the build is cancelled, so are they.
          progress: ignoredAfter(signal, alsoTo(handedOver?.progress, recordingProgress(record, this.liveLogs, (event) => void this.changed(record, event)))),
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
      this.liveLogs.endBuild(record.id);
    }
  }

  private async finish(record: BuildRecord, state: BuildRecord['state'], error?: { name: string; message: string }): Promise<void> {
    record.state = state;
    this.handedOver.delete(record.id); // also a handed-over build cancelled while still queued
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

function parseBuildId(message: string): string | undefined {
  try {
    const parsed = JSON.parse(message) as { buildId?: unknown };
    return typeof parsed.buildId === 'string' ? parsed.buildId : undefined;
  } catch {
    return undefined;
  }
}
