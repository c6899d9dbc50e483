/**
 * The local interpreter's callback tasks. aws-local-stepfunctions has no `.waitForTaskToken`,
 * so state-machine-runner.ts runs such a task as: issue a token, invoke the binding with it,
 * then wait here until something completes the token, as Step Functions waits for
 * SendTaskSuccess or SendTaskFailure. A second completion is ignored, as AWS's TaskTimedOut is.
 */
import { randomUUID } from 'node:crypto';
import type { TaskTokens } from '../ports/task-tokens.js';

/** What SendTaskFailure makes of a task: the error the state's Catch routes on. */
export class CallbackTaskFailed extends Error {
  constructor(error: string, cause: string) {
    super(cause);
    this.name = error;
  }
}

interface Pending {
  resolve(output: unknown): void;
  reject(error: Error): void;
}

export class LocalTaskTokens implements TaskTokens {
  private readonly pending = new Map<string, Pending>();

  /** A new token and the task's outcome: its output, or a CallbackTaskFailed. */
  issue(): { taskToken: string; outcome: Promise<unknown> } {
    const taskToken = `local-task-${randomUUID()}`;
    const outcome = new Promise<unknown>((resolve, reject) => this.pending.set(taskToken, { resolve, reject }));
    return { taskToken, outcome };
  }

  async succeed(taskToken: string, output: unknown): Promise<void> {
    // Through JSON, as SendTaskSuccess's `output` is a JSON string.
    this.take(taskToken)?.resolve(JSON.parse(JSON.stringify(output ?? null)));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    this.take(taskToken)?.reject(new CallbackTaskFailed(error, cause));
  }

  /** The execution stopped: no task is waited for any more. */
  abandonAll(reason: string): void {
    for (const taskToken of [...this.pending.keys()]) this.take(taskToken)?.reject(new CallbackTaskFailed('States.Aborted', reason));
  }

  /** Tasks still waiting (a test's check that nothing was left behind). */
  get waiting(): number {
    return this.pending.size;
  }

  private take(taskToken: string): Pending | undefined {
    const pending = this.pending.get(taskToken);
    this.pending.delete(taskToken);
    return pending;
  }
}
