/**
 * The farm's end of the run hand-off (protocol.ts): `buildfarm serve` listens on
 * DATA/run-handoff/farm.sock, and a `buildfarm run` on the same data directory hands its build
 * over instead of loading the farm itself. The build is queued and run like a webhook's (the same
 * build processes, sandbox and limits; it shows on the dashboard and in serve's output), built
 * from the repository `run` names. After its report the farm writes the build's plain files, as
 * `run` does, and tells `run` where they are.
 *
 * A `run` that goes away (Ctrl-C twice, killed, its terminal closed) stops its build: `run` is a
 * foreground command, and nothing it started may outlive it.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { chmod, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { BuildRecord } from '../build-record.js';
import type { BuildProgress } from '../build-runner.js';
import { alsoTo } from '../build-progress-fanout.js';
import type { LocalSourceMapping } from '../farm-context.js';
import type { BuildRequest } from '../../domain/build-request.js';
import type { BuildReport } from '../../domain/report/types.js';
import { checkRunMessage } from './check-run-message.js';
import { EarlyExport, type ExportFiles } from './early-export.js';
import { readJsonLines, writeJsonLine } from './json-lines.js';
import type { FarmSettings, FromFarm } from './protocol.js';
import { prepareSocketFolder } from './socket-folder.js';

/** A connection that says nothing this long after connecting is closed. */
const FIRST_MESSAGE_MS = 10_000;
/** How long closing waits for handed-over builds' last messages (their files are being written). */
const CLOSE_WAIT_MS = 30_000;

/** What the hand-off needs of the farm (LocalFarm). */
export interface HandOffFarm {
  startHandedOver(buildId: string, request: BuildRequest, repository: LocalSourceMapping, progress: BuildProgress): Promise<void>;
  stop(buildId: string, reason: string): Promise<void>;
  settled(buildId: string): Promise<BuildRecord>;
  /** Builds queued or running now. */
  busy(): number;
}

export interface RunHandOffOptions {
  dataDirectory: string;
  farm: HandOffFarm;
  /** What the farm builds with; a `run` with other settings is refused and builds by itself. */
  settings: FarmSettings;
  /** The sandbox probe's finding, as `run` prints it, and whether it is a warning. */
  sandbox: { text: string; degraded: boolean };
  dashboard(buildId: string): string;
  /** Writes the build's plain files, or a part of them (exportBuildFiles); resolves with their folder. */
  exportFiles: ExportFiles;
  /** Removes the build's plain files (a build that ended without a report). */
  removeFiles(buildId: string): Promise<void>;
  /**
   * Calls `listener` with the build id of each report published on the farm's BuildReports topic
   * (the report and its summary are stored by then); returns how to stop. Optional.
   */
  reportsPublished?(listener: (buildId: string) => void): () => void;
  onError?(error: unknown): void;
  /** How long close() waits for handed-over builds' last messages (default CLOSE_WAIT_MS). */
  closeWaitMs?: number;
}

export interface RunHandOffServer {
  path: string;
  /** No new hand-overs; builds already handed over go on (the farm's shutdown cancels them). */
  stopAccepting(): void;
  /**
   * After the farm's shutdown: waits (at most CLOSE_WAIT_MS) for the handed-over builds' reports
   * and files to go out, then ends every connection and removes the socket.
   */
  close(): Promise<void>;
}

export async function startRunHandOff(options: RunHandOffOptions): Promise<RunHandOffServer | { unavailable: string }> {
  const place = await prepareSocketFolder(options.dataDirectory);
  if ('unavailable' in place) return place;
  const connections = new Set<Socket>();
  const handling = new Set<Promise<void>>();
  // One subscription for every handed-over build: a published report starts its build's copy.
  const exporting = new Map<string, EarlyExport>();
  const unsubscribe = options.reportsPublished?.((buildId) => exporting.get(buildId)?.reportPublished());
  const server: Server = createServer((socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
    serveConnection(socket, options, exporting, (work) => {
      handling.add(work);
      void work.finally(() => handling.delete(work));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(place.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The folder already keeps others out; the socket's own mode says the same to anyone who looks.
  await chmod(place.path, 0o600);
  server.on('error', (error) => options.onError?.(error));
  let accepting = true;
  const stopAccepting = () => {
    if (!accepting) return;
    accepting = false;
    server.close();
  };
  return {
    path: place.path,
    stopAccepting,
    async close() {
      stopAccepting();
      unsubscribe?.();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled([...handling]), new Promise((resolve) => (timer = setTimeout(resolve, options.closeWaitMs ?? CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
      for (const socket of connections) socket.destroy();
      await unlink(place.path).catch(() => undefined);
    },
  };
}

function serveConnection(socket: Socket, options: RunHandOffOptions, exporting: Map<string, EarlyExport>, track: (work: Promise<void>) => void): void {
  const send = (message: FromFarm) => writeJsonLine(socket, message);
  let buildId: string | undefined;
  // Settled on the farm, or its report already sent: a closing connection stops nothing then.
  let settled = false;
  // A stop asked for before the farm has queued the build (startHandedOver saves its record first)
  // would find nothing to stop: it is kept, and made as soon as the build is queued.
  let onFarm = false;
  let stopReason: string | undefined;
  const stopBuild = (reason: string) => {
    if (buildId === undefined || settled || stopReason !== undefined) return;
    stopReason = reason;
    if (onFarm) void options.farm.stop(buildId, reason).catch(options.onError);
  };
  const silent = setTimeout(() => socket.destroy(), FIRST_MESSAGE_MS);
  socket.on('error', () => undefined);
  socket.once('close', () => {
    clearTimeout(silent);
    stopBuild('buildfarm run went away (its connection to the farm closed)');
  });
  readJsonLines(socket, (message) => {
    const typed = (message ?? {}) as Record<string, unknown>;
    if (typed.type === 'abort') return stopBuild('stopped by buildfarm run (Ctrl-C)');
    if (typed.type !== 'run' || buildId !== undefined) return void socket.destroy();
    clearTimeout(silent);
    const checked = checkRunMessage(typed, options.settings);
    if (!checked.ok) {
      send({ type: 'refused', reason: checked.refused });
      return void socket.end();
    }
    buildId = checked.buildId;
    track(
      build(checked.buildId, checked.request, checked.repository).finally(() => {
        settled = true;
        socket.end();
      }),
    );
  });

  async function build(id: string, request: BuildRequest, repository: LocalSourceMapping): Promise<void> {
    const queued = options.farm.busy();
    const files = new EarlyExport(options.exportFiles, options.removeFiles, id);
    // Before the build can report anything: `accepted` is the first line `run` reads after its own.
    send({ type: 'accepted', pid: process.pid, dashboard: options.dashboard(id), sandbox: options.sandbox.text, sandboxDegraded: options.sandbox.degraded, queued });
    try {
      await options.farm.startHandedOver(id, request, repository, alsoTo(files.progress, relayTo(send, () => socket.writableLength)));
    } catch (error) {
      return send({ type: 'error', error: asError(error) });
    }
    onFarm = true;
    if (stopReason !== undefined) await options.farm.stop(id, stopReason).catch(options.onError);
    // Copied as soon as they are stored, while the report step records history and spend.
    exporting.set(id, files);
    const settling = options.farm.settled(id).finally(() => exporting.delete(id));
    // `run` has its answer once the report is published and copied, as a webhook build's outcome
    // is out once SNS has it: the farm's own bookkeeping (history, spend, work folders) goes on here.
    const first = await Promise.race([settling.then((record) => ({ record })), files.reportCopied.then((folder) => ({ folder }))]);
    if ('folder' in first) {
      const report = await readReport(first.folder, id);
      if (report !== undefined) {
        settled = true;
        send({ type: 'report', report, directory: first.folder });
        socket.end();
        await settling;
        return;
      }
    }
    const record = 'record' in first ? first.record : await settling;
    if (record.report === undefined) {
      // As `run` in its own process leaves no files of a build that did not report: the parts
      // copied while it ran are removed.
      await files.discard().catch(options.onError);
      return send({ type: 'error', error: record.error ?? { name: 'BuildError', message: `the build ended ${record.state} without a report` } });
    }
    try {
      send({ type: 'report', report: record.report, directory: await files.finish() });
    } catch (error) {
      send({ type: 'error', error: { name: 'ExportFailed', message: `the build ${record.report.status}, but its files could not be written: ${asError(error).message}` } });
    }
  }
}

/** The report among the build's copied files, when it is there and is this build's. */
async function readReport(folder: string, buildId: string): Promise<BuildReport | undefined> {
  try {
    const report = JSON.parse(await readFile(join(folder, 'report.json'), 'utf8')) as BuildReport;
    return report.buildId === buildId ? report : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The build's progress, line by line to `run`. A stage's output is dropped, and the drop said,
 * while `run` is this far behind (a stage may print gigabytes; a paused terminal reads none):
 * what the farm holds for a slow reader stays bounded, and the stored log keeps every byte.
 */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024;

function relayTo(send: (message: FromFarm) => void, unread: () => number): BuildProgress {
  const dropped = new Map<string, number>();
  const sayDropped = (stage: string) => {
    const bytes = dropped.get(stage);
    if (bytes === undefined) return;
    dropped.delete(stage);
    send({ type: 'stageLog', stage, chunk: `[buildfarm: ${bytes} bytes of this stage's output not shown here (the terminal fell behind); the stored log has them]\n` });
  };
  return {
    planned: (plan) => send({ type: 'planned', plan }),
    stageStarted: (stage, at) => send({ type: 'stageStarted', stage, at: at.toISOString() }),
    stageLog: (stage, chunk) => {
      if (unread() > MAX_UNREAD_BYTES) return void dropped.set(stage, (dropped.get(stage) ?? 0) + Buffer.byteLength(chunk));
      sayDropped(stage);
      send({ type: 'stageLog', stage, chunk });
    },
    stageFinished: (result) => {
      sayDropped(result.stage);
      send({ type: 'stageFinished', result });
    },
  };
}

function asError(error: unknown): { name: string; message: string } {
  return { name: (error as Error)?.name ?? 'Error', message: (error as Error)?.message ?? String(error) };
}
