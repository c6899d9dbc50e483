/**
 * What the local farm needs from whatever runs one build (the real state
 * machine through the local ASL interpreter, see local-build-runner.ts): run
 * it to its report, say how it goes on the way, and stop when told.
 */
import type { Plan } from '../domain/plan/types.js';
import type { BuildReport, StageResult } from '../domain/report/types.js';
import type { BuildExecutionInput } from './build-record.js';

/** Progress a build reports while it runs; every method is optional to call. */
export interface BuildProgress {
  planned(plan: Plan): void;
  stageStarted(stage: string, at: Date): void;
  /** A piece of a running stage's log (secrets already masked by the agent). */
  stageLog(stage: string, chunk: string): void;
  stageFinished(result: StageResult): void;
}

export interface RunBuildOptions {
  /** Aborted on Ctrl-C or a stop: running stages must end their processes and the run settle. */
  signal: AbortSignal;
  progress: BuildProgress;
}

export interface BuildRunner {
  /** Runs the build to its report; the report step publishes it to the BuildReports topic. */
  run(input: BuildExecutionInput, options: RunBuildOptions): Promise<BuildReport>;
}
