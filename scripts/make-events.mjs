#!/usr/bin/env node
// Generates events/*.json for the webhook and start-build handlers from real
// GitHub payloads (@octokit/webhooks-examples), signed with the documented
// test secret. Run: npx tsx scripts/make-events.mjs
// (tsx, because it reuses the TypeScript normaliser to build start-build.json.)
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { normaliseDelivery } from '../functions/domain/webhook/normalise.ts';
import { buildRequestAttributes } from '../functions/handlers/webhook-core.ts';

const require = createRequire(import.meta.url);
const examples = require('@octokit/webhooks-examples/api.github.com/index.json');
const eventsDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'events');

export const TEST_SECRET = 'test-secret';
const RECEIVED_AT = new Date('2026-11-22T12:00:00.000Z');
const REGION = 'us-east-1';
const ACCOUNT = '123456789012';
const API_ID = 'a1b2c3d4e5';

function example(name, predicate = () => true) {
  const found = examples.find((e) => e.name === name)?.examples.find(predicate);
  if (!found) throw new Error(`no ${name} example matches`);
  return found;
}

function hmac(algorithm, secret, body) {
  return createHmac(algorithm, secret).update(body).digest('hex');
}

/** An HTTP API (payload format 2.0) event, as API Gateway hands GitHub's POST to Lambda. */
function httpApiEvent({ event, deliveryId, payload, secret = TEST_SECRET, base64 = false }) {
  const body = JSON.stringify(payload);
  return {
    version: '2.0',
    routeKey: 'POST /webhook',
    rawPath: '/webhook',
    rawQueryString: '',
    headers: {
      accept: '*/*',
      'content-length': String(Buffer.byteLength(body)),
      'content-type': 'application/json',
      host: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      'user-agent': 'GitHub-Hookshot/5b7e0a1',
      'x-github-delivery': deliveryId,
      'x-github-event': event,
      'x-github-hook-id': '512345678',
      'x-github-hook-installation-target-id': '186853002',
      'x-github-hook-installation-target-type': 'repository',
      'x-hub-signature': `sha1=${hmac('sha1', secret, body)}`,
      'x-hub-signature-256': `sha256=${hmac('sha256', secret, body)}`,
    },
    requestContext: {
      accountId: ACCOUNT,
      apiId: API_ID,
      domainName: `${API_ID}.execute-api.${REGION}.amazonaws.com`,
      domainPrefix: API_ID,
      http: { method: 'POST', path: '/webhook', protocol: 'HTTP/1.1', sourceIp: '140.82.115.10', userAgent: 'GitHub-Hookshot/5b7e0a1' },
      requestId: `req-${deliveryId.slice(0, 8)}`,
      routeKey: 'POST /webhook',
      stage: '$default',
      time: '22/Nov/2026:12:00:00 +0000',
      timeEpoch: RECEIVED_AT.getTime(),
    },
    body: base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: base64,
  };
}

/** An SNS event as Lambda receives it from the BuildRequests topic. */
function snsEvent(message, attributes) {
  const topicArn = `arn:aws:sns:${REGION}:${ACCOUNT}:BuildRequests`;
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
        Sns: {
          Type: 'Notification',
          MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
          TopicArn: topicArn,
          Subject: null,
          Message: message,
          Timestamp: RECEIVED_AT.toISOString(),
          SignatureVersion: '1',
          Signature: 'EXAMPLE',
          SigningCertUrl: `https://sns.${REGION}.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem`,
          UnsubscribeUrl: `https://sns.${REGION}.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${topicArn}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55`,
          MessageAttributes: Object.fromEntries(
            Object.entries(attributes).map(([name, value]) => [name, { Type: typeof value === 'number' ? 'Number' : 'String', Value: String(value) }]),
          ),
        },
      },
    ],
  };
}

const push = example('push', (p) => p.ref.startsWith('refs/heads/') && !p.deleted);
const pullRequest = example('pull_request', (p) => p.action === 'opened');
const ping = example('ping', (p) => p.repository !== undefined);

const PUSH_DELIVERY = '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d01';
const files = {
  'webhook-push.json': httpApiEvent({ event: 'push', deliveryId: PUSH_DELIVERY, payload: push }),
  'webhook-push-base64.json': httpApiEvent({ event: 'push', deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d02', payload: push, base64: true }),
  'webhook-pull-request.json': httpApiEvent({ event: 'pull_request', deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d03', payload: pullRequest }),
  'webhook-ping.json': httpApiEvent({ event: 'ping', deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d04', payload: ping }),
  'webhook-bad-signature.json': httpApiEvent({ event: 'push', deliveryId: '9f2d6c1e-6b1a-11f0-8e3e-1f4b2a7c9d05', payload: push, secret: 'not-the-secret' }),
};

const decision = normaliseDelivery({ event: 'push', deliveryId: PUSH_DELIVERY, payload: push, receivedAt: RECEIVED_AT });
if (!decision.build) throw new Error(`the push example is not built: ${decision.reason}`);
files['start-build.json'] = snsEvent(JSON.stringify(decision.request), buildRequestAttributes(decision.request));

for (const [name, content] of Object.entries(files)) {
  writeFileSync(join(eventsDir, name), `${JSON.stringify(content, null, 2)}\n`);
  console.log(`events/${name}`);
}
