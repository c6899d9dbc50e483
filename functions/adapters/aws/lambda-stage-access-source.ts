/**
 * A runner's way to StageCredentials on AWS: a synchronous Lambda Invoke with `{ grant }`.
 * A function error comes back as HTTP 200 with `FunctionError` set and the error in the
 * payload (`errorType`, `errorMessage`):
 * https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html
 * The refusal is rethrown under its own name (GrantRevoked, GrantExpired, ...).
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { StageAccessRefused } from '../../domain/credentials/errors.js';
import type { StageAccess, StageAccessSource } from '../../ports/stage-access.js';

class NamedRefusal extends StageAccessRefused {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export class LambdaStageAccessSource implements StageAccessSource {
  constructor(
    private readonly lambda: LambdaClient,
    private readonly functionName: string,
  ) {}

  async open(grant: string): Promise<StageAccess> {
    const response = await this.lambda.send(
      new InvokeCommand({ FunctionName: this.functionName, InvocationType: 'RequestResponse', Payload: new TextEncoder().encode(JSON.stringify({ grant })) }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : '';
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new StageAccessRefused(`StageCredentials answered ${response.StatusCode} with a payload that is not JSON`);
    }
    if (response.FunctionError) {
      const error = body as { errorType?: string; errorMessage?: string };
      throw new NamedRefusal(error.errorType ?? 'StageAccessRefused', `StageCredentials: ${error.errorMessage ?? response.FunctionError}`);
    }
    const access = body as StageAccess;
    if (!access?.credentials?.accessKeyId || !Array.isArray(access.secrets)) {
      throw new StageAccessRefused('StageCredentials answered without credentials');
    }
    return access;
  }
}
