import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  ExecutionDoesNotExist,
  ListExecutionsCommand,
  StartExecutionCommand,
  StopExecutionCommand,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import type { BuildExecutionInput, RunningBuild } from '../../domain/webhook/execution-input.js';
import { WorkflowStartFailed } from '../../domain/webhook/errors.js';
import { executionNamePrefix } from '../../domain/webhook/execution-name.js';
import type { StartedWorkflow, WorkflowStarter } from '../../ports/workflow-starter.js';

/** StopExecution's `cause` is at most 32,768 characters. */
const MAX_CAUSE_LENGTH = 32_768;
/** Pages of ListExecutions read when looking for running builds (100 each). */
const MAX_LIST_PAGES = 10;

/**
 * Starts and stops build executions of one Step Functions state machine.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 */
export class SfnWorkflowStarter implements WorkflowStarter {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

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
  async stop(executionArn: string, reason: string): Promise<void> {
    try {
      await this.client.send(new StopExecutionCommand({ executionArn, cause: reason.slice(0, MAX_CAUSE_LENGTH) }));
    } catch (error) {
      if (error instanceof ExecutionDoesNotExist || (error as Error).name === 'ExecutionDoesNotExist') return;
      throw error;
    }
  }

  /**
   * Running builds of `repository` on `branch`: ListExecutions (RUNNING)
   * narrowed by the name prefix, then each candidate's input read with
   * DescribeExecution, since the name alone cannot tell branches apart.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListExecutions.html
   */
  async findRunning(repository: string, branch: string): Promise<RunningBuild[]> {
    const prefix = executionNamePrefix(repository);
    const candidates: string[] = [];
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const output = await this.client.send(
        new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, statusFilter: 'RUNNING', maxResults: 100, nextToken }),
      );
      for (const execution of output.executions ?? []) {
        if (execution.executionArn !== undefined && execution.name?.startsWith(prefix)) candidates.push(execution.executionArn);
      }
      nextToken = output.nextToken;
      if (nextToken === undefined) break;
    }
    const running: RunningBuild[] = [];
    for (const executionArn of candidates) {
      const described = await this.client.send(new DescribeExecutionCommand({ executionArn }));
      if (described.status !== 'RUNNING') continue;
      const input = parseInput(described.input);
      if (input === undefined) continue;
      const { request } = input;
      if (request.repository.toLowerCase() === repository.toLowerCase() && request.branch === branch) {
        running.push({ executionArn, input });
      }
    }
    return running;
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

function parseInput(text: string | undefined): BuildExecutionInput | undefined {
  if (text === undefined) return undefined;
  try {
    const value = JSON.parse(text) as Partial<BuildExecutionInput>;
    if (typeof value.buildId === 'string' && typeof value.request?.repository === 'string' && typeof value.request.branch === 'string') {
      return value as BuildExecutionInput;
    }
  } catch {
    // Not one of ours: someone started the state machine by hand.
  }
  return undefined;
}
