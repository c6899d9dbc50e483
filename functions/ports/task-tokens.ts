/**
 * Completes a callback task (`.waitForTaskToken`): on AWS SendTaskSuccess and SendTaskFailure,
 * locally the interpreter's own registry. Completing a task that is already complete (two
 * releasers saw the same need finish) is not an error: it is done.
 */
export interface TaskTokens {
  succeed(taskToken: string, output: unknown): Promise<void>;
  fail(taskToken: string, error: string, cause: string): Promise<void>;
}
