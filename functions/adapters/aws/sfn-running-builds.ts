/**
 * The running builds of one Step Functions state machine: found with ListExecutions and
 * DescribeExecution, stopped with StopExecution. Its own module (no StartExecution) so the Plan
 * function, which stops superseded builds but never starts one, is granted only these calls.
 */
import { DescribeExecutionCommand, ExecutionDoesNotExist, ListExecutionsCommand, StopExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { BuildExecutionInput, RunningBuild } from '../../domain/webhook/execution-input.js';
import { executionNamePrefix } from '../../domain/webhook/execution-name.js';
import type { RunningBuilds } from '../../ports/running-builds.js';

/** StopExecution's `cause` is at most 32,768 characters. */
const MAX_CAUSE_LENGTH = 32_768;
/** Pages of ListExecutions read when looking for running builds (100 each). */
const MAX_LIST_PAGES = 10;

export class NotAnExecutionArn extends Error {
  override readonly name = 'NotAnExecutionArn';
}

export class SfnRunningBuilds implements RunningBuilds {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  /**
   * Stopping an execution that no longer exists is not an error: it is stopped.
   * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StopExecution.html
   */
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
 * `arn:PARTITION:states:REGION:ACCOUNT:execution:MACHINE:NAME` becomes
 * `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:MACHINE`: the Plan function learns its state
 * machine from its own execution (`$$.Execution.Id`), so the template needs no reference from
 * the function to the state machine (which already references the function).
 * https://docs.aws.amazon.com/step-functions/latest/dg/concepts-state-machine-executions.html
 */
export function stateMachineArnOf(executionArn: string): string {
  const parts = executionArn.split(':');
  if (parts.length < 8 || parts[0] !== 'arn' || parts[2] !== 'states' || parts[5] !== 'execution' || !parts[6]) {
    throw new NotAnExecutionArn(`${executionArn} is not a Step Functions execution ARN`);
  }
  return [...parts.slice(0, 5), 'stateMachine', parts[6]].join(':');
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
