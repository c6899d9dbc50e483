import type { RunningBuild } from '../domain/webhook/execution-input.js';

/**
 * The builds in flight, as the superseded-build check needs them: Step Functions executions on
 * AWS (SfnRunningBuilds), the local farm's queued and running builds locally (LocalFarm).
 */
export interface RunningBuilds {
  /** Builds of `repository` (case-insensitive) on `branch` that have not finished. */
  findRunning(repository: string, branch: string): Promise<RunningBuild[]>;
  /** Stops one of them; stopping a build that already ended is not an error. */
  stop(executionArn: string, reason: string): Promise<void>;
}
