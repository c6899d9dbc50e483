/**
 * Task tokens completed with SendTaskSuccess and SendTaskFailure
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_SendTaskSuccess.html).
 * A token whose task is already complete answers TaskTimedOut ("the task associated with the
 * token has already been closed"); InvalidToken and TaskDoesNotExist mean the same for a token
 * this farm stored: the execution was stopped or the task retried with a new token. All three
 * are the second of two releases, and are not errors.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { TaskTokens } from '../../ports/task-tokens.js';

const ALREADY_CLOSED = new Set(['TaskTimedOut', 'InvalidToken', 'TaskDoesNotExist']);
/** SendTaskFailure's `cause` is at most 32,768 characters, `error` 256. */
const MAX_CAUSE = 32_768;
const MAX_ERROR = 256;

export class SfnTaskTokens implements TaskTokens {
  constructor(private readonly client: SFNClient) {}

  async succeed(taskToken: string, output: unknown): Promise<void> {
    await this.closing(() => this.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output) })));
  }

  async fail(taskToken: string, error: string, cause: string): Promise<void> {
    await this.closing(() => this.client.send(new SendTaskFailureCommand({ taskToken, error: error.slice(0, MAX_ERROR), cause: cause.slice(0, MAX_CAUSE) })));
  }

  private async closing(send: () => Promise<unknown>): Promise<void> {
    try {
      await send();
    } catch (error) {
      if (ALREADY_CLOSED.has((error as Error).name)) return;
      throw error;
    }
  }
}
