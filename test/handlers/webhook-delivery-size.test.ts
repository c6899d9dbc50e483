/**
 * Deliveries near the sizes AWS lets through (domain/webhook/delivery-limits.ts): the largest
 * push that fits Lambda's 6 MB invocation builds, with a bounded request; bigger ones never reach
 * the handler, and the documented answers are what GitHub's delivery log shows.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { deliveryPath, GITHUB_MAX_PAYLOAD_BYTES, LAMBDA_SYNC_PAYLOAD_BYTES } from '../../functions/domain/webhook/delivery-limits.js';
import { jsonBytes, MAX_BUILD_REQUEST_BYTES } from '../../functions/domain/webhook/request-size.js';
import { createWebhookHandler } from '../../functions/handlers/webhook.js';
import { lambdaContext, loadEvent } from '../support/events.js';
import { signedRequest } from '../support/signed-request.js';

const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm/webhook-AbCdEf';
const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:BuildRequests';
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);

function push(bytes: number) {
  const files = (c: number) => Array.from({ length: 40 }, (_, f) => `src/module-${c}/very/long/directory/name/for/files/file-${f}.ts`);
  const commits: unknown[] = [];
  const base = { ref: 'refs/heads/main', after: 'a'.repeat(40), repository: { full_name: 'octo/app', clone_url: 'https://github.com/octo/app.git' }, head_commit: { message: 'big push' }, sender: { login: 'octo' }, commits };
  // Sized as the body appears in the event (a JSON string, its quotes escaped).
  const commit = (c: number) => ({ id: String(c), message: 'm', added: files(c), modified: [], removed: [] });
  const perCommit = jsonBytes(JSON.stringify(commit(99_999)));
  const count = Math.floor((bytes - jsonBytes(JSON.stringify(base))) / perCommit);
  for (let c = 0; c < count; c++) commits.push(commit(c));
  return base;
}

/** The HTTP API (payload 2.0) event for a signed request, as API Gateway hands it to the function. */
function apiEvent(request: ReturnType<typeof signedRequest>): APIGatewayProxyEventV2 {
  const template = loadEvent<APIGatewayProxyEventV2>('webhook-push.json');
  return { ...template, headers: { ...template.headers, ...(request.headers as Record<string, string>) }, body: request.body.toString(), isBase64Encoded: false };
}

describe('Webhook deliveries near the AWS payload limits', () => {
  beforeEach(() => {
    sns.reset();
    secrets.reset();
    clearCaches();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: 'test-secret' });
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  });

  it('the largest push that fits Lambda\'s 6 MB invocation builds, and what it publishes stays small', async () => {
    // Prepare: a body that leaves room for the event's envelope
    const envelope = jsonBytes({ ...apiEvent(signedRequest('push', {})), body: '' });
    const request = signedRequest('push', push(LAMBDA_SYNC_PAYLOAD_BYTES - envelope - 64 * 1024), { deliveryId: 'big-1' });
    const event = apiEvent(request);
    expect(jsonBytes(event)).toBeLessThanOrEqual(LAMBDA_SYNC_PAYLOAD_BYTES);
    expect(deliveryPath(jsonBytes(request.body.toString()), envelope)).toBe('handled');
    const metrics = new Metrics({ namespace: 'Test', serviceName: 'webhook' });
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
    const handler = createWebhookHandler({ env: { WEBHOOK_SECRET_ARN: SECRET_ARN, BUILD_REQUESTS_TOPIC_ARN: TOPIC_ARN, AWS_REGION: 'us-east-1' }, sns: new SNSClient({ region: 'us-east-1' }), logger: new Logger({ logLevel: 'SILENT' }), metrics });

    // Act
    const response = (await handler(event, lambdaContext('webhook'))) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(response.statusCode).toBe(202);
    const message = sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
    expect(Buffer.byteLength(message)).toBeLessThanOrEqual(MAX_BUILD_REQUEST_BYTES);
  }, 60_000);

  it('a bigger delivery never reaches the handler: Lambda refuses the invoke (500) up to 10 MB, the HTTP API answers 413 above', () => {
    const envelope = 4096;
    expect(deliveryPath(LAMBDA_SYNC_PAYLOAD_BYTES, envelope)).toBe('lambda-refused-500');
    expect(deliveryPath(9 * 1024 * 1024, envelope)).toBe('lambda-refused-500');
    expect(deliveryPath(GITHUB_MAX_PAYLOAD_BYTES, envelope)).toBe('api-refused-413');
    // A base64 body grows by a third in the event.
    expect(deliveryPath(Math.ceil((5 * 1024 * 1024) / 3) * 4, envelope, true)).toBe('lambda-refused-500');
  });
});
