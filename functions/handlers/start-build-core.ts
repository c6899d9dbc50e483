import type { BuildRequest } from '../domain/build-request.js';
import type { BuildExecutionInput, RunningBuild } from '../domain/webhook/execution-input.js';
import { executionName } from '../domain/webhook/execution-name.js';
import { supersededBy } from '../domain/webhook/superseded.js';
import type { WorkflowStarter } from '../ports/workflow-starter.js';

/**
 * Starts the state machine execution of one build request, named after its
 * delivery, so a duplicate starts nothing. Shared by the Lambda handler
 * (start-build.ts) and the local farm.
 */

export interface StartBuildLogger {
  info(message: string, ...extra: Record<string, unknown>[]): void;
  appendKeys?(keys: Record<string, unknown>): void;
}

export interface StartBuildDeps {
  starter: WorkflowStarter;
  /**
   * Running builds of a repository's branch (SfnWorkflowStarter.findRunning
   * on AWS). Used only when `cancelSuperseded` is on.
   */
  findRunning?: (repository: string, branch: string) => Promise<RunningBuild[]>;
  /**
   * Stop older running builds of the same branch once this one has started.
   * The pipeline file's `cancel-superseded` is read only when the build plans,
   * so start-build cannot see it: this is the farm-wide switch; the Plan task
   * (handlers/plan.ts) stops superseded builds itself when the file opts in.
   */
  cancelSuperseded?: boolean;
  logger?: StartBuildLogger;
}

export interface StartBuildResult {
  executionName: string;
  executionArn: string;
  /** The execution already existed: a duplicate message, counted as success. */
  alreadyStarted: boolean;
  /** Execution ARNs stopped because this build supersedes them. */
  stopped: string[];
}

/** Throws on any failure other than a duplicate, so SNS/Lambda retry and the DLQ keeps the message. */
export async function startBuild(request: BuildRequest, deps: StartBuildDeps): Promise<StartBuildResult> {
  const name = executionName(request.deliveryId, request.repository);
  deps.logger?.appendKeys?.({ deliveryId: request.deliveryId, repository: request.repository, buildId: name });
  const input: BuildExecutionInput = { buildId: name, request };
  const started = await deps.starter.start(name, input);
  deps.logger?.info(started.alreadyStarted ? 'build already started: duplicate delivery' : 'build started', {
    executionArn: started.executionArn,
  });
  let stopped: string[] = [];
  if (deps.cancelSuperseded === true && deps.findRunning !== undefined && !started.alreadyStarted) {
    stopped = await stopSupersededBuilds(request, { starter: deps.starter, findRunning: deps.findRunning, logger: deps.logger });
  }
  return { executionName: name, executionArn: started.executionArn, alreadyStarted: started.alreadyStarted, stopped };
}

/** Stops the running builds that `request` supersedes; returns their ARNs. */
export async function stopSupersededBuilds(
  request: BuildRequest,
  deps: Required<Pick<StartBuildDeps, 'starter' | 'findRunning'>> & Pick<StartBuildDeps, 'logger'>,
): Promise<string[]> {
  const running = await deps.findRunning(request.repository, request.branch);
  const older = supersededBy(request, running);
  for (const build of older) {
    await deps.starter.stop(build.executionArn, `superseded by ${request.sha} (delivery ${request.deliveryId})`);
    deps.logger?.info('stopped superseded build', { executionArn: build.executionArn });
  }
  return older.map((build) => build.executionArn);
}
