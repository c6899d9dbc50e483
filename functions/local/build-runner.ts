/**
 * What the local farm needs from whatever runs one build (the real state
 * machine through the local ASL interpreter, see local-build-runner.ts): run
 * it to its report, say how it goes on the way, and stop when told.
 */
import type { Plan } from '../domain/plan/types.js';
import type { BuildReport, StageResult } from '../domain/report/types.js';
import type { BuildExecutionInput } from './build-record.js';
import type { LocalSourceMapping } from './farm-context.js';

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
  /** Build from this repository, ahead of the farm's own mappings (a build `buildfarm run` handed over). */
  repository?: LocalSourceMapping;
}

export interface BuildRunner {
  /** Runs the build to its report; the report step publishes it to the BuildReports topic. */
  run(input: BuildExecutionInput, options: RunBuildOptions): Promise<BuildReport>;
  /** Releases what the runner holds between builds (a pre-forked build process); called once the farm's builds have stopped. */
  close?(): Promise<void>;
}
