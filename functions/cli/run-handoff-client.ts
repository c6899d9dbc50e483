/**
 * `buildfarm run`'s end of the run hand-off (functions/local/run-handoff/protocol.ts): when a
 * `buildfarm serve` runs on the same data directory, `run` hands it the build instead of loading
 * the farm itself, follows its progress, and takes its report. When no farm answers, or the farm
 * runs with other settings, `run` builds in its own process as before: the hand-off is only ever
 * faster, never different.
 */
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { UserError } from '../domain/errors.js';
import type { BuildReport } from '../domain/report/types.js';
import type { BuildProgress } from '../local/build-runner.js';
import { DEFAULT_DATA_DIRECTORY, OLD_DEFAULT_DATA_DIRECTORY } from '../local/data-directory.js';
import { readJsonLines, writeJsonLine } from '../local/run-handoff/json-lines.js';
import type { FromFarm, ToFarm } from '../local/run-handoff/protocol.js';
import { trustedSocket } from '../local/run-handoff/socket-folder.js';

/** How long a farm gets to accept or refuse a build (it answers at once unless it is stuck). */
export const HANDOFF_REPLY_MS = 5000;

export type Accepted = Extract<FromFarm, { type: 'accepted' }>;
/**
 * `why`: said on stderr (none for the socket of a farm that is gone). `farmMayHaveIt`: the run
 * message went out and no refusal came back, so the farm may still read it and start the build
 * (it stops it at once, the connection being closed): `run` builds under another id.
 */
export type HandOffOutcome = { handed: false; why?: string; farmMayHaveIt?: boolean } | { handed: true; report: BuildReport; directory: string };

/** The build could not run to a report on the farm (said as `run` says any error: its message, exit 1). */
export class HandedOverBuildFailed extends UserError {
  override name = 'HandedOverBuildFailed';
}

/** The data directory `run` would use and the farm's socket in it, if a farm of this user's listens there. */
export async function findRunningFarm(named: string | undefined, cwd: string): Promise<{ dataDirectory: string; socket: string } | undefined> {
  const current = resolve(cwd, named ?? DEFAULT_DATA_DIRECTORY);
  // As openDataDirectory: the old default only when the new one does not exist.
  const useOld = named === undefined && !(await stat(current).catch(() => undefined))?.isDirectory();
  const dataDirectory = useOld ? resolve(cwd, OLD_DEFAULT_DATA_DIRECTORY) : current;
  const socket = await trustedSocket(dataDirectory);
  return socket === undefined ? undefined : { dataDirectory, socket };
}

export interface HandOffOptions {
  socket: string;
  run: Extract<ToFarm, { type: 'run' }>;
  /** Ctrl-C: the farm is asked to stop the build, and still reports it. */
  signal: AbortSignal;
  onAccepted(accepted: Accepted): void;
  progress: BuildProgress;
}

export function handOffBuild(options: HandOffOptions): Promise<HandOffOutcome> {
  return new Promise((resolvePromise, rejectPromise) => {
    const socket = connect(options.socket);
    let accepted: Accepted | undefined;
    let done = false;
    const finish = (outcome: HandOffOutcome | Error) => {
      if (done) return;
      done = true;
      clearTimeout(waiting);
      options.signal.removeEventListener('abort', abort);
      if (outcome instanceof Error) rejectPromise(outcome);
      else resolvePromise(outcome);
      socket.end();
    };
    let sent = false;
    const waiting = setTimeout(() => {
      // A farm that reads the message later sees this connection closed, and stops what it started.
      finish({ handed: false, why: `buildfarm serve did not answer within ${HANDOFF_REPLY_MS / 1000} s`, farmMayHaveIt: sent });
      socket.destroy();
    }, HANDOFF_REPLY_MS);
    const abort = () => writeJsonLine(socket, { type: 'abort' } satisfies ToFarm);
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      writeJsonLine(socket, options.run);
      sent = true;
    });
    socket.once('close', () => {
      // Never connected: the socket of a farm that is gone (killed), passed over without a word.
      if (!sent) return finish({ handed: false });
      if (accepted === undefined) return finish({ handed: false, why: 'buildfarm serve closed the connection without answering (is it stopping?)', farmMayHaveIt: true });
      finish(new HandedOverBuildFailed(`buildfarm run: buildfarm serve (pid ${accepted.pid}) stopped before build ${options.run.buildId} ended; its dashboard or output may say why`));
    });
    readJsonLines(socket, (message) => {
      const typed = message as FromFarm;
      switch (typed.type) {
        case 'refused':
          return finish({ handed: false, why: typed.reason });
        case 'accepted':
          clearTimeout(waiting);
          accepted = typed;
          options.onAccepted(typed);
          if (options.signal.aborted) abort();
          else options.signal.addEventListener('abort', abort, { once: true });
          return;
        case 'planned':
          return options.progress.planned(typed.plan);
        case 'stageStarted':
          return options.progress.stageStarted(typed.stage, new Date(typed.at));
        case 'stageLog':
          return options.progress.stageLog(typed.stage, typed.chunk);
        case 'stageFinished':
          return options.progress.stageFinished(typed.result);
        case 'report':
          return finish({ handed: true, report: typed.report, directory: typed.directory });
        case 'error':
          return finish(new HandedOverBuildFailed(`buildfarm run: build ${options.run.buildId} on buildfarm serve (pid ${accepted?.pid}) ended without a report: ${typed.error.name}: ${typed.error.message}`));
      }
    });
  });
}
