/**
 * The BuildRunner `buildfarm serve` uses: each build in a child process of its
 * own (build-process.ts), so planning, uploads, log handling and the state
 * machine's interpreter never hold up the farm's event loop (issue 11: the
 * webhook acknowledgement reached 614 ms while builds ran in-process). A child
 * process rather than a worker thread: a stage's processes, its sandbox and
 * the containment sweep then belong to the build's process, and the farm can
 * end all of it by ending that process.
 *
 * - progress and the report come back as messages; the build is settled at the report (the
 *   child's stages have all ended by then), and the child exits after it by itself; abort
 *   (Ctrl-C, a superseded build, a stop) is a message, then SIGKILL if the child does not settle;
 * - a child that dies without a report ends the build `error`, naming how it
 *   died, and the stages it left are killed by its marker family;
 * - a child whose farm dies sees its IPC channel close and stops (build-process.ts).
 */
import type { ChildProcess } from 'node:child_process';
import type { BuildReport } from '../../domain/report/types.js';
import { killMarkedFamily, newStageMarkerFamily } from '../../runner/stage-containment.js';
import type { BuildRunner, RunBuildOptions } from '../build-runner.js';
import type { BuildExecutionInput } from '../build-record.js';
import type { LocalBuildSettings } from '../local-build-runner.js';
import type { RunnerContext } from '../start-farm.js';
import { STOP_GRACE_MS } from '../stop-descendants.js';
import { buildProcessEntry, type BuildProcessEntry } from './entry.js';
import type { BuildProcessSettings, FromBuildProcess, Question, ToBuildProcess } from './protocol.js';
import { forkBuildProcess, WarmBuildProcesses } from './warm-build-process.js';

export { BUILD_PROCESS_NICENESS } from './warm-build-process.js';

/** After an abort, how long the child gets to stop its stages and report before it is killed. */
export const ABORT_GRACE_MS = STOP_GRACE_MS + 10_000;
/** After its report, how long the child gets to exit by itself. */
const EXIT_GRACE_MS = 5000;

export class BuildProcessDied extends Error {
  override readonly name = 'BuildProcessDied';
}

export interface ChildProcessRunnerOptions {
  /** Where the child's module is (default: buildProcessEntry()). */
  entry?: BuildProcessEntry;
  /** Told each child's pid as it starts (tests kill it from outside). */
  onStarted?(buildId: string, pid: number): void;
  /** Keep one child forked and loaded ahead of the next build (warm-build-process.ts); default: fork per build. */
  keepOneWarm?: boolean;
}

export interface ChildProcessBuildRunner extends BuildRunner {
  /** The pre-forked children, with keepOneWarm. */
  readonly warm: WarmBuildProcesses | undefined;
  /** Ends the idle child (running builds are the farm's to stop). */
  close(): Promise<void>;
}

export function createChildProcessBuildRunner(context: RunnerContext, settings: LocalBuildSettings, options: ChildProcessRunnerOptions = {}): ChildProcessBuildRunner {
  const entry = options.entry ?? buildProcessEntry();
  const warm = options.keepOneWarm ? new WarmBuildProcesses(entry) : undefined;
  return {
    warm,
    close: async () => warm?.close(),
    run(input, runOptions) {
      const processSettings: BuildProcessSettings = {
        dataDirectory: context.dataDirectory,
        s3: { endpoint: context.s3.endpoint, bucket: context.s3.bucket },
        // A handed-over build's own repository first (sourceFor takes the first match).
        repositories: [...(runOptions.repository ? [runOptions.repository] : []), ...context.repositories].map((mapping) => ({ ...mapping })),
        region: settings.region,
        prices: settings.prices,
        lambdaEphemeralStorageMB: settings.lambdaEphemeralStorageMB,
        lambdaRunnerTiersMB: settings.lambdaRunnerTiersMB ? [...settings.lambdaRunnerTiersMB] : undefined,
        policy: settings.policy,
        sandbox: settings.sandbox,
        buildLink: context.buildLink?.(input.buildId),
        markerFamily: newStageMarkerFamily(),
        maxStageConcurrency: settings.maxStageConcurrency,
      };
      const child = warm ? warm.take() : forkBuildProcess(entry);
      if (child.pid !== undefined) options.onStarted?.(input.buildId, child.pid);
      return runInChild(child, input, processSettings, runOptions, context);
    },
  };
}

function runInChild(
  child: ChildProcess,
  input: BuildExecutionInput,
  settings: BuildProcessSettings,
  { signal, progress }: RunBuildOptions,
  context: RunnerContext,
): Promise<BuildReport> {
  let outcome: { report: BuildReport } | { error: { name: string; message: string } } | undefined;
  let killTimer: NodeJS.Timeout | undefined;
  let reported: (report: BuildReport) => void = () => undefined;

  const tell = (message: ToBuildProcess) => {
    if (child.connected) child.send(message, (error) => error && undefined);
  };
  const killLater = (ms: number) => {
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), ms);
  };
  const answer = async (id: number, question: Question) => {
    try {
      tell({ type: 'answer', id, value: await answerQuestion(question, context) });
    } catch (error) {
      tell({ type: 'answer', id, error: (error as Error).message ?? String(error) });
    }
  };

  child.on('message', (message: FromBuildProcess) => {
    switch (message.type) {
      case 'planned':
        return progress.planned(message.plan);
      case 'stageStarted':
        return progress.stageStarted(message.stage, new Date(message.at));
      case 'stageLog':
        return progress.stageLog(message.stage, message.chunk);
      case 'stageFinished':
        return progress.stageFinished(message.result);
      case 'ask':
        return void answer(message.id, message.question);
      case 'report':
        outcome = { report: message.report };
        killLater(EXIT_GRACE_MS);
        // Settled now: the child sends its report only once every stage and its processes have
        // ended (run-local-build.ts). Its own exit, and the sweep after it, follow by themselves;
        // waiting for them here cost every build 40 to 120 ms.
        return reported(message.report);
      case 'failed':
        outcome = { error: message.error };
        return killLater(EXIT_GRACE_MS);
    }
  });
  const onAbort = () => {
    tell({ type: 'abort', reason: signal.reason instanceof Error ? signal.reason.message : String(signal.reason ?? 'stopped') });
    killLater(ABORT_GRACE_MS);
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  tell({ type: 'run', input, settings });

  return new Promise((resolve, reject) => {
    reported = resolve;
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    child.once('exit', (code, exitSignal) => {
      void (async () => {
        clearTimeout(killTimer);
        signal.removeEventListener('abort', onAbort);
        // Whatever the child left (it was killed, or its sweep missed something) was re-parented away
        // from it: found by the marker every stage process carries.
        await killMarkedFamily(settings.markerFamily);
        if (outcome !== undefined && 'report' in outcome) return resolve(outcome.report);
        if (outcome !== undefined) return reject(Object.assign(new Error(outcome.error.message), { name: outcome.error.name }));
        const how = exitSignal !== null ? `was killed by ${exitSignal}` : `exited with code ${code}`;
        reject(new BuildProcessDied(`the build's process (pid ${child.pid}) ${how} before it reported${spawnError ? `: ${spawnError.message}` : ''}`));
      })();
    });
  });
}

async function answerQuestion(question: Question, context: RunnerContext): Promise<unknown> {
  switch (question.kind) {
    case 'publish':
      return context.reports.publish(question.message, question.attributes);
    case 'findRunning':
      return (await context.running?.findRunning(question.repository, question.branch)) ?? [];
    case 'stop':
      return context.running?.stop(question.executionArn, question.reason);
  }
}
