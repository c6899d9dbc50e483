/**
 * The two AWS adapters of stage access, with the SDK's own clients and aws-sdk-client-mock
 * in place of the services (unit level: the twin-engine suite runs them on moto):
 * - StsStageSessionMinter sends AssumeRole with exactly RoleArn, RoleSessionName, Policy
 *   and DurationSeconds (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html);
 * - LambdaStageAccessSource reads a function error (HTTP 200, FunctionError set, the error
 *   in the payload) back into a named error.
 */
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { LambdaStageAccessSource } from '../../../functions/adapters/aws/lambda-stage-access-source.js';
import { StsStageSessionMinter } from '../../../functions/adapters/aws/sts-stage-session-minter.js';

const sts = mockClient(STSClient);
const lambda = mockClient(LambdaClient);
afterEach(() => {
  sts.reset();
  lambda.reset();
});

describe('Class: StsStageSessionMinter', () => {
  it('assumes the stage access role with the session policy and duration, and returns the session', async () => {
    // Prepare
    const expiration = new Date('2026-11-30T21:00:00Z');
    sts.on(AssumeRoleCommand).resolves({ Credentials: { AccessKeyId: 'ASIA1', SecretAccessKey: 's', SessionToken: 't', Expiration: expiration } });
    const minter = new StsStageSessionMinter(new STSClient({ region: 'us-east-1' }), 'arn:aws:iam::123456789012:role/stage-access');
    // Act
    const session = await minter.mint({ policy: '{"Version":"2012-10-17","Statement":[]}', sessionName: 'bf.b1.test', durationSeconds: 900 });
    // Assess
    expect(sts.commandCalls(AssumeRoleCommand)[0]!.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::123456789012:role/stage-access',
      RoleSessionName: 'bf.b1.test',
      Policy: '{"Version":"2012-10-17","Statement":[]}',
      DurationSeconds: 900,
    });
    expect(session).toEqual({ accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: expiration.toISOString() });
  });
});

describe('Class: LambdaStageAccessSource', () => {
  const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

  it('invokes StageCredentials synchronously with { grant } and returns its answer', async () => {
    const answer = { credentials: { accessKeyId: 'ASIA1', secretAccessKey: 's', sessionToken: 't', expiration: '2026-11-30T21:00:00.000Z' }, secrets: [] };
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, Payload: encode(answer) as never });
    const source = new LambdaStageAccessSource(new LambdaClient({ region: 'us-east-1' }), 'stage-credentials');
    await expect(source.open('ab'.repeat(32))).resolves.toEqual(answer);
    const input = lambda.commandCalls(InvokeCommand)[0]!.args[0].input;
    expect(input.FunctionName).toBe('stage-credentials');
    expect(input.InvocationType).toBe('RequestResponse');
    expect(JSON.parse(new TextDecoder().decode(input.Payload as Uint8Array))).toEqual({ grant: 'ab'.repeat(32) });
  });

  it('rethrows a refusal under its own name (the function error travels in the payload)', async () => {
    lambda.on(InvokeCommand).resolves({ StatusCode: 200, FunctionError: 'Unhandled', Payload: encode({ errorType: 'GrantRevoked', errorMessage: 'stage "x" has its result' }) as never });
    const source = new LambdaStageAccessSource(new LambdaClient({ region: 'us-east-1' }), 'stage-credentials');
    await expect(source.open('ab'.repeat(32))).rejects.toMatchObject({ name: 'GrantRevoked', message: expect.stringContaining('has its result') });
  });
});
