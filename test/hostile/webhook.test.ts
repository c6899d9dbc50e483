/**
 * Hostile input and faults at the webhook (issue 6): each case names the
 * attack or failure it defends against.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createHmac } from 'node:crypto';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SfnWorkflowStarter } from '../../functions/adapters/aws/sfn-workflow-starter.js';
import { EXECUTION_NAME_PATTERN } from '../../functions/domain/webhook/execution-name.js';
import { parseBuildRequest } from '../../functions/domain/webhook/parse-build-request.js';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { startBuild } from '../../functions/handlers/start-build-core.js';
import { handleWebhook, MAX_BODY_BYTES, type WebhookRequest } from '../../functions/handlers/webhook-core.js';
import { createWebhookHandler } from '../../functions/handlers/webhook.js';
import { lambdaContext, loadEvent } from '../support/events.js';
import { githubExample } from '../support/github-examples.js';
import { RecordingNotifier } from '../support/recording-notifier.js';
import { enforceUniqueNames } from '../support/sfn-names.js';
import { signedRequest, TEST_SECRET } from '../support/signed-request.js';

const NOW = new Date('2026-11-22T12:00:00.000Z');
const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:BuildFarm';
const sfn = mockClient(SFNClient);
const sns = mockClient(SNSClient);
const secrets = mockClient(SecretsManagerClient);
beforeEach(() => {
  sfn.reset();
  sns.reset();
  secrets.reset();
});

const push = () => githubExample('push', (p) => p.ref === 'refs/heads/master' && p.deleted === false);

async function deliver(request: WebhookRequest, notifier = new RecordingNotifier()) {
  const response = await handleWebhook(request, { secret: TEST_SECRET, notifier, now: () => NOW });
  return { response, notifier };
}

function rawRequest(body: Buffer | string, headers: Record<string, string | undefined> = {}): WebhookRequest {
  return { headers: { 'x-github-event': 'push', 'x-github-delivery': 'd-1', 'content-type': 'application/json', ...headers }, body };
}

describe('Hostile: forged signatures', () => {
  it('defends against a delivery signed with a guessed secret', async () => {
    // Act
    const { response, notifier } = await deliver(signedRequest('push', push(), { secret: 'password' }));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(notifier.published).toEqual([]);
  });

  it('defends against a valid signature lifted onto another body', async () => {
    // Prepare: a real signed delivery, then the attacker's body under its header.
    const genuine = signedRequest('push', push());
    const forged = rawRequest(JSON.stringify({ ...push(), after: 'f'.repeat(40) }), { 'x-hub-signature-256': genuine.headers['x-hub-signature-256'] as string });

    // Act
    const { response, notifier } = await deliver(forged);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(notifier.published).toEqual([]);
  });

  it('defends against a downgrade to the SHA-1 X-Hub-Signature header', async () => {
    // Prepare
    const body = JSON.stringify(push());
    const request = rawRequest(body, { 'x-hub-signature': `sha1=${createHmac('sha1', TEST_SECRET).update(body).digest('hex')}` });

    // Act
    const { response } = await deliver(request);

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it('defends against a body re-encoded after signing (the HMAC covers raw bytes, not parsed JSON)', async () => {
    // Prepare: same JSON value, different bytes (pretty-printed).
    const request = signedRequest('push', push());
    request.body = JSON.stringify(JSON.parse(request.body as string), null, 2);

    // Act
    const { response } = await deliver(request);

    // Assess
    expect(response.statusCode).toBe(401);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['the prefix alone', 'sha256='],
    ['all zeros', `sha256=${'0'.repeat(64)}`],
    ['a huge header', `sha256=${'a'.repeat(100_000)}`],
    ['an array-looking value', '["sha256=abc"]'],
  ])('defends against a signature header that is %s', async (_label, header) => {
    // Act
    const { response, notifier } = await deliver(rawRequest(JSON.stringify(push()), { 'x-hub-signature-256': header }));

    // Assess
    expect(response.statusCode).toBe(401);
    expect(notifier.published).toEqual([]);
  });
});

describe('Hostile: replayed signatures', () => {
  it('defends against a captured delivery replayed ten times: one execution', async () => {
    // Prepare: an attacker (or GitHub's redeliver button) sends the same bytes and headers again.
    const executions = enforceUniqueNames(sfn);
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);
    const notifier = new RecordingNotifier();
    const captured = signedRequest('push', push(), { deliveryId: 'replayed-delivery' });
    let minute = 0;

    // Act: each replay arrives later, so its BuildRequest differs in receivedAt.
    for (let i = 0; i < 10; i++) {
      const at = new Date(NOW.getTime() + 60_000 * minute++);
      await handleWebhook(structuredClone(captured), { secret: TEST_SECRET, notifier, now: () => at });
    }
    const results = [];
    for (const { message } of notifier.published) results.push(await startBuild(parseBuildRequest(message), { starter }));

    // Assess
    expect(notifier.published).toHaveLength(10);
    expect(executions.size).toBe(1);
    expect(results.filter((r) => !r.alreadyStarted)).toHaveLength(1);
    expect(new Set(results.map((r) => r.executionArn)).size).toBe(1);
  });
});

describe('Hostile: oversized bodies', () => {
  it('defends against a 25 MB + 1 byte body without hashing it', async () => {
    // Prepare
    const body = Buffer.alloc(MAX_BODY_BYTES + 1, 0x7b);

    // Act
    const { response, notifier } = await deliver(rawRequest(body, { 'x-hub-signature-256': signBody(TEST_SECRET, body) }));

    // Assess
    expect(response.statusCode).toBe(413);
    expect(notifier.published).toEqual([]);
  });

  it('defends against a multi-byte string body whose characters fit but whose bytes do not', async () => {
    // Prepare: 9 M three-byte characters = 27 MB.
    const body = '€'.repeat(9 * 1024 * 1024);

    // Act
    const { response } = await deliver(rawRequest(body, { 'x-hub-signature-256': signBody(TEST_SECRET, body) }));

    // Assess
    expect(body.length).toBeLessThan(MAX_BODY_BYTES);
    expect(response.statusCode).toBe(413);
  });
});

describe('Hostile: bodies that are not JSON', () => {
  const deepArray = '['.repeat(200_000) + ']'.repeat(200_000);
  const deepObject = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
  it.each([
    ['empty', ''],
    ['whitespace', '   \n'],
    ['truncated JSON', '{"ref":"refs/heads/main"'],
    ['a NUL byte', '\u0000'],
    ['invalid UTF-8', Buffer.from([0xff, 0xfe, 0xfd])],
    ['XML', '<?xml version="1.0"?><push/>'],
    ['a form body without payload', 'ref=refs%2Fheads%2Fmain'],
    ['JSON null', 'null'],
    ['a JSON string', '"push"'],
    ['a JSON array 200,000 deep', deepArray],
    ['an object 100,000 deep', deepObject],
    ['JSON with a trailing comma', '{"a":1,}'],
  ])('defends against a signed body that is %s: 400, no crash', async (_label, body) => {
    // Act
    const { response, notifier } = await deliver(rawRequest(body, { 'x-hub-signature-256': signBody(TEST_SECRET, body) }));

    // Assess
    expect(response.statusCode).toBe(400);
    expect(notifier.published).toEqual([]);
  });

  it('defends against prototype pollution through __proto__ keys', async () => {
    // Prepare
    const body = JSON.stringify(push()).replace(/^\{/, '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted2":true}},');

    // Act
    const { response, notifier } = await deliver(rawRequest(body, { 'x-hub-signature-256': signBody(TEST_SECRET, body) }));

    // Assess
    expect(response.statusCode).toBe(202);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted2).toBeUndefined();
    expect(Object.keys(JSON.parse(notifier.published[0].message))).not.toContain('__proto__');
  });
});

describe('Hostile: unknown and strange events', () => {
  it.each([
    ['issues', 'issues'],
    ['installation', 'installation'],
    ['workflow_run', 'workflow_run'],
    ['a path', '../../etc/passwd'],
    ['a header injection', 'push\r\nX-Injected: 1'],
    ['10,000 characters long', 'x'.repeat(10_000)],
    ['__proto__', '__proto__'],
  ])(
    'defends against an event that is %s: 202 with a short reason, nothing published',
    async (_label, event) => {
      // Act
      const { response, notifier } = await deliver(signedRequest(event, push()));

      // Assess
      expect(response.statusCode).toBe(202);
      expect(JSON.parse(response.body).reason).toMatch(/is not built/);
      expect(response.body.length).toBeLessThan(300);
      expect(notifier.published).toEqual([]);
    },
  );

  it('defends against delivery ids that would break execution names', async () => {
    // Prepare
    enforceUniqueNames(sfn);
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);
    const ids = ['../../../x', 'a b c', '$(reboot)', '💥', 'x'.repeat(128), 'ARN:aws:states:::'];
    const notifier = new RecordingNotifier();

    // Act
    for (const deliveryId of ids) await deliver(signedRequest('push', push(), { deliveryId }), notifier);
    for (const { message } of notifier.published) await startBuild(parseBuildRequest(message), { starter });

    // Assess
    const names = sfn.commandCalls(StartExecutionCommand).map((c) => c.args[0].input.name as string);
    expect(names).toHaveLength(ids.length);
    for (const name of names) expect(name).toMatch(EXECUTION_NAME_PATTERN);
    expect(new Set(names).size).toBe(ids.length);
  });
});

describe('Hostile: a flood of 1,000 deliveries', () => {
  it('defends against loss and duplication: 1,000 concurrent deliveries, 1,000 publishes, 1,000 executions', async () => {
    // Prepare
    const executions = enforceUniqueNames(sfn);
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);
    const notifier = new RecordingNotifier();
    const payload = push();
    const ids = Array.from({ length: 1000 }, (_, i) => `flood-${String(i).padStart(4, '0')}`);

    // Act
    const responses = await Promise.all(ids.map((deliveryId) => deliver(signedRequest('push', payload, { deliveryId }), notifier)));
    const started = await Promise.all(notifier.published.map(({ message }) => startBuild(parseBuildRequest(message), { starter })));

    // Assess
    expect(responses.map((r) => r.response.statusCode)).toEqual(ids.map(() => 202));
    const publishedIds = notifier.published.map(({ message }) => JSON.parse(message).deliveryId).sort();
    expect(publishedIds).toEqual(ids);
    expect(executions.size).toBe(1000);
    expect(started.every((s) => !s.alreadyStarted)).toBe(true);
  });

  it('defends against a flood where every delivery arrives twice: still 1,000 executions', async () => {
    // Prepare
    const executions = enforceUniqueNames(sfn);
    const starter = new SfnWorkflowStarter(new SFNClient({ region: 'us-east-1' }), STATE_MACHINE);
    const notifier = new RecordingNotifier();
    const payload = push();
    const ids = Array.from({ length: 1000 }, (_, i) => `dup-${i}`);

    // Act
    await Promise.all([...ids, ...ids].map((deliveryId) => deliver(signedRequest('push', payload, { deliveryId }), notifier)));
    const started = await Promise.all(notifier.published.map(({ message }) => startBuild(parseBuildRequest(message), { starter })));

    // Assess
    // (Copies with identical input get the running execution back from Step Functions
    // rather than ExecutionAlreadyExists, so count executions, not the duplicate flag.)
    expect(notifier.published).toHaveLength(2000);
    expect(executions.size).toBe(1000);
    expect(new Set(started.map((s) => s.executionArn)).size).toBe(1000);
  });
});

describe('Fault: SNS down at the webhook', () => {
  it('answers 5xx through the Lambda handler, so GitHub shows the failed delivery', async () => {
    // Prepare
    clearCaches();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: TEST_SECRET });
    sns.on(PublishCommand).rejects(Object.assign(new Error('Service Unavailable'), { name: 'InternalErrorException', $fault: 'server' }));
    const metrics = new Metrics({ namespace: 'Test' });
    vi.spyOn(metrics, 'publishStoredMetrics').mockReturnValue(metrics);
    const handler = createWebhookHandler({
      env: { WEBHOOK_SECRET_ARN: 'arn:secret', BUILD_REQUESTS_TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:BuildRequests' },
      sns: new SNSClient({ region: 'us-east-1' }),
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics,
    });

    // Act
    const response = (await handler(loadEvent<APIGatewayProxyEventV2>('webhook-push.json'), lambdaContext('webhook'))) as APIGatewayProxyStructuredResultV2;

    // Assess
    expect(response.statusCode).toBeGreaterThanOrEqual(500);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  });
});

describe('Hostile: repeated headers', () => {
  it('defends against two signature headers (one valid, one forged): treated as missing', async () => {
    // Prepare
    const request = signedRequest('push', push());
    request.headers['x-hub-signature-256'] = [request.headers['x-hub-signature-256'] as string, `sha256=${'0'.repeat(64)}`];

    // Act
    const { response, notifier } = await deliver(request);

    // Assess
    expect(response.statusCode).toBe(401);
    expect(notifier.published).toEqual([]);
  });
});
