import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, SNSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { MAX_BODY_BYTES } from '../../functions/handlers/webhook-core.js';
import { createWebhookHandler } from '../../functions/handlers/webhook.js';
import { lambdaContext, loadEvent } from '../support/events.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm/webhook-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:BuildRequests';
const ENV = { WEBHOOK_SECRET_ARN: SECRET_ARN, BUILD_REQUESTS_TOPIC_ARN: TOPIC_ARN, AWS_REGION: 'us-east-1' };

const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);

function setup(env: Record<string, string> = {}) {
  const logger = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const metrics = new Metrics({ namespace: 'Test', serviceName: 'webhook' });
  vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
  const addMetric = vi.spyOn(metrics, 'addMetric');
  const appendKeys = vi.spyOn(logger, 'appendKeys');
  const handler = createWebhookHandler({ env: { ...ENV, ...env }, sns: new SNSClient({ region: 'us-east-1' }), logger, metrics });
  const invoke = (event: APIGatewayProxyEventV2) => handler(event, lambdaContext('webhook')) as Promise<APIGatewayProxyStructuredResultV2>;
  return { invoke, addMetric, appendKeys };
}

describe('Function: handler (webhook)', () => {
  beforeEach(() => {
    sns.reset();
    secrets.reset();
    clearCaches();
    secrets.on(GetSecretValueCommand, { SecretId: SECRET_ARN }).resolves({ SecretString: 'test-secret' });
    sns.on(PublishCommand).resolves({ MessageId: 'sns-message-1' });
  });

  it('publishes the push in events/webhook-push.json exactly as start-build.json expects it', async () => {
    // Prepare
    const { invoke } = setup();
    const expected = loadEvent<SNSEvent>('start-build.json').Records[0].Sns;
    vi.useFakeTimers({ now: new Date(expected.Timestamp), toFake: ['Date'] });

    // Act
    const response = await invoke(loadEvent('webhook-push.json')).finally(() => vi.useRealTimers());

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body as string)).toEqual({ status: 'accepted', deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d01', messageId: 'sns-message-1' });
    expect(sns.commandCalls(PublishCommand).map((c) => c.args[0].input)).toEqual([
      {
        TopicArn: TOPIC_ARN,
        Message: expected.Message,
        MessageAttributes: {
          repository: { DataType: 'String', StringValue: 'Codertocat/Hello-World' },
          event: { DataType: 'String', StringValue: 'push' },
          ref: { DataType: 'String', StringValue: 'refs/heads/master' },
        },
      },
    ]);
    expect(secrets.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: SECRET_ARN }]);
  });

  it('decodes a base64-encoded body before checking its signature', async () => {
    // Prepare
    const { invoke } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-push-base64.json'));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(sns.commandCalls(PublishCommand)[0].args[0].input.Message as string)).toMatchObject({
      deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d02',
      sha: '6113728f27ae82c7b1a177c8d03f9e96e0adf246',
    });
  });

  it('publishes the pull request in events/webhook-pull-request.json', async () => {
    // Prepare
    const { invoke } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-pull-request.json'));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(sns.commandCalls(PublishCommand)[0].args[0].input.MessageAttributes).toEqual({
      repository: { DataType: 'String', StringValue: 'Codertocat/Hello-World' },
      event: { DataType: 'String', StringValue: 'pull_request' },
      ref: { DataType: 'String', StringValue: 'refs/pull/2/head' },
    });
  });

  it('answers the ping in events/webhook-ping.json with 200 and publishes nothing', async () => {
    // Prepare
    const { invoke, addMetric } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-ping.json'));

    // Assess
    expect(response.statusCode).toBe(200);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(addMetric).toHaveBeenCalledWith('WebhookPing', 'Count', 1);
  });

  it('rejects events/webhook-bad-signature.json with 401 and publishes nothing', async () => {
    // Prepare
    const { invoke, addMetric } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-bad-signature.json'));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
    expect(addMetric).toHaveBeenCalledWith('WebhookUnauthorized', 'Count', 1);
  });

  it('fetches the secret once and reuses it from the cache', async () => {
    // Prepare
    const { invoke } = setup();

    // Act
    await invoke(loadEvent('webhook-push.json'));
    await invoke(loadEvent('webhook-pull-request.json'));
    await invoke(loadEvent('webhook-ping.json'));

    // Assess
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('answers 503 when SNS fails, so GitHub shows the failed delivery', async () => {
    // Prepare
    sns.on(PublishCommand).rejects(new Error('Service Unavailable'));
    const { invoke, addMetric } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-push.json'));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(addMetric).toHaveBeenCalledWith('WebhookPublishFailed', 'Count', 1);
  });

  it('answers 503 when the secret cannot be read', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'));
    const { invoke } = setup();

    // Act
    const response = await invoke(loadEvent('webhook-push.json'));

    // Assess
    expect(response.statusCode).toBe(503);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('applies ALLOWED_REPOSITORIES: 202 with the reason, nothing published', async () => {
    // Prepare
    const { invoke } = setup({ ALLOWED_REPOSITORIES: 'acme/*, octo/web' });

    // Act
    const response = await invoke(loadEvent('webhook-push.json'));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(JSON.parse(response.body as string).reason).toBe('repository Codertocat/Hello-World is not in the allowlist');
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('rejects a base64 body over 25 MB with 413 without fetching the secret', async () => {
    // Prepare
    const { invoke } = setup();
    const event = loadEvent<APIGatewayProxyEventV2>('webhook-push-base64.json');
    event.body = Buffer.alloc(MAX_BODY_BYTES + 3).toString('base64');

    // Act
    const response = await invoke(event);

    // Assess
    expect(response.statusCode).toBe(413);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('appends the delivery id and repository to the log keys', async () => {
    // Prepare
    const { invoke, appendKeys } = setup();

    // Act
    await invoke(loadEvent('webhook-push.json'));

    // Assess
    expect(appendKeys).toHaveBeenCalledWith({ deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d01', event: 'push' });
    expect(appendKeys).toHaveBeenCalledWith({ repository: 'Codertocat/Hello-World' });
  });

  it('fails loudly (a 5xx from API Gateway) when the topic is not configured', async () => {
    // Prepare
    const { invoke } = setup({ BUILD_REQUESTS_TOPIC_ARN: '' });

    // Act & Assess
    await expect(invoke(loadEvent('webhook-push.json'))).rejects.toThrow('BUILD_REQUESTS_TOPIC_ARN is not set');
  });
});
