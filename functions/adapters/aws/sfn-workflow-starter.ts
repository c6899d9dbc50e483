import { ExecutionAlreadyExists, StartExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { RunningBuild } from '../../domain/webhook/execution-input.js';
import { WorkflowStartFailed } from '../../domain/webhook/errors.js';
import type { RunningBuilds } from '../../ports/running-builds.js';
import type { StartedWorkflow, WorkflowStarter } from '../../ports/workflow-starter.js';
import { SfnRunningBuilds } from './sfn-running-builds.js';

/**
 * Starts and stops build executions of one Step Functions state machine.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export class SfnWorkflowStarter implements WorkflowStarter, RunningBuilds {
  private readonly builds: SfnRunningBuilds;

  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {
    this.builds = new SfnRunningBuilds(client, stateMachineArn);
  }

  /**
   * Same name and same input while the execution runs: Step Functions
   * returns the existing execution. Same name otherwise (a redelivery carries
   * a new receipt time, or the first one finished): `ExecutionAlreadyExists`,
   * which is a duplicate, not a failure.
   */
  async start(name: string, input: unknown): Promise<StartedWorkflow> {
    try {
      const output = await this.client.send(
        new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input: JSON.stringify(input) }),
      );
      if (output.executionArn === undefined) throw new Error('StartExecution returned no executionArn');
      return { executionArn: output.executionArn, alreadyStarted: false };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') {
        return { executionArn: executionArnFor(this.stateMachineArn, name), alreadyStarted: true };
      }
      throw new WorkflowStartFailed(`StartExecution ${name} failed: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Stopping an execution that no longer exists is not an error: it is stopped. */
  stop(executionArn: string, reason: string): Promise<void> {
    return this.builds.stop(executionArn, reason);
  }

  /** Running builds of `repository` on `branch` (see SfnRunningBuilds.findRunning). */
  findRunning(repository: string, branch: string): Promise<RunningBuild[]> {
    return this.builds.findRunning(repository, branch);
  }
}

/**
 * `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION]` becomes
 * `arn:PARTITION:states:REGION:ACCOUNT:execution:NAME:EXECUTION`.
 */
export function executionArnFor(stateMachineArn: string, executionName: string): string {
  const parts = stateMachineArn.split(':');
  if (parts.length < 7 || parts[2] !== 'states' || parts[5] !== 'stateMachine') {
    throw new WorkflowStartFailed(`${stateMachineArn} is not a state machine ARN`);
  }
  return [...parts.slice(0, 5), 'execution', parts[6], executionName].join(':');
}
