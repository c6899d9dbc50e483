import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { SnsNotifier } from '../adapters/aws/sns-notifier.js';
import { parseAllowlist, type Allowlist } from '../domain/webhook/allowlist.js';
import { handleWebhook, MAX_BODY_BYTES, type WebhookOutcome } from './webhook-core.js';

export { handleWebhook } from './webhook-core.js';

/**
 * `POST /webhook` on an HTTP API (payload format 2.0): reads the secret from
 * Secrets Manager (cached), then hands the raw body to `handleWebhook`.
 * https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
 *
 * Environment:
 * - WEBHOOK_SECRET_ARN: the secret (a plain string) GitHub signs with;
 * - BUILD_REQUESTS_TOPIC_ARN: where build requests go;
 * - ALLOWED_REPOSITORIES: optional `owner/*` or `owner/name` entries, comma separated;
 * - BUILD_TAGS: `true` to build tag pushes.
 */

/** Seconds a fetched secret is reused: a rotation takes effect within this. */
export const SECRET_MAX_AGE_SECONDS = 300;

interface WebhookConfig {
  secretId: string;
  topicArn: string;
  allowlist: Allowlist;
  buildTags: boolean;
}

export interface WebhookHandlerOptions {
  env?: NodeJS.ProcessEnv;
  sns?: SNSClient;
  logger?: Logger;
  metrics?: Metrics;
}

const METRIC_NAMES: Record<WebhookOutcome, string> = {
  accepted: 'WebhookAccepted',
  ping: 'WebhookPing',
  skipped: 'WebhookSkipped',
  unauthorized: 'WebhookUnauthorized',
  malformed: 'WebhookMalformed',
  'too-large': 'WebhookTooLarge',
  'publish-failed': 'WebhookPublishFailed',
};

/** Builds the Lambda handler; the configuration is read on the first request, so importing never throws. */
export function createWebhookHandler(options: WebhookHandlerOptions = {}) {
  const env = options.env ?? process.env;
  const logger = options.logger ?? new Logger({ serviceName: 'buildfarm-webhook' });
  const metrics = options.metrics ?? new Metrics({ namespace: 'BuildFarm', serviceName: 'webhook' });
  let config: WebhookConfig | undefined;
  let notifier: SnsNotifier | undefined;

  async function webhook(event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    config ??= readConfig(env);
    notifier ??= new SnsNotifier(options.sns ?? new SNSClient({}), config.topicArn);

    const body = decodeBody(event);
    if (body === undefined) {
      metrics.addMetric(METRIC_NAMES['too-large'], MetricUnit.Count, 1);
      return json(413, { error: `the body is larger than ${MAX_BODY_BYTES} bytes` });
    }
    let secret: string;
    try {
      secret = await readSecret(config.secretId);
    } catch (error) {
      // Without the secret nothing can be verified: fail so GitHub can redeliver.
      logger.error('reading the webhook secret failed', error as Error);
      metrics.addMetric('WebhookSecretUnavailable', MetricUnit.Count, 1);
      return json(503, { error: 'the webhook secret is unavailable; redeliver later' });
    }
    const response = await handleWebhook(
      { headers: event.headers ?? {}, body },
      { secret, notifier, allowlist: config.allowlist, buildTags: config.buildTags, now: () => new Date(), logger },
    );
    metrics.addMetric(METRIC_NAMES[response.outcome], MetricUnit.Count, 1);
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  }

  return middy(webhook)
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }));
}

export const handler = createWebhookHandler();

function readConfig(env: NodeJS.ProcessEnv): WebhookConfig {
  const secretId = env.WEBHOOK_SECRET_ARN;
  const topicArn = env.BUILD_REQUESTS_TOPIC_ARN;
  if (!secretId) throw new Error('WEBHOOK_SECRET_ARN is not set');
  if (!topicArn) throw new Error('BUILD_REQUESTS_TOPIC_ARN is not set');
  return {
    secretId,
    topicArn,
    allowlist: parseAllowlist(env.ALLOWED_REPOSITORIES),
    buildTags: env.BUILD_TAGS === 'true',
  };
}

/** Powertools caches the value for SECRET_MAX_AGE_SECONDS across invocations of a warm function. */
async function readSecret(secretId: string): Promise<string> {
  const secret = await getSecret<string>(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (typeof secret !== 'string' || secret.length === 0) throw new Error(`secret ${secretId} has no string value`);
  return secret;
}

/**
 * The raw body: HTTP API base64-encodes bodies it does not treat as text.
 * Undefined when it is over the limit, checked on the encoded length first
 * so an oversized body is never decoded.
 */
function decodeBody(event: APIGatewayProxyEventV2): Buffer | string | undefined {
  const body = event.body ?? '';
  if (!event.isBase64Encoded) return body;
  if (Math.floor((body.length * 3) / 4) > MAX_BODY_BYTES + 2) return undefined;
  return Buffer.from(body, 'base64');
}

function json(statusCode: number, body: Record<string, unknown>): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}
