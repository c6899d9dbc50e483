/**
 * `POST /webhook` of the local farm: the raw bytes and headers of the HTTP
 * request go to the same `handleWebhook` the Lambda runs behind the HTTP API,
 * with the local bus's BuildRequests topic as its notifier.
 */
import { handleWebhook, type WebhookDeps } from '../handlers/webhook-core.js';
import type { WebhookEndpoint } from './server.js';

export function createWebhookEndpoint(deps: WebhookDeps): WebhookEndpoint {
  return async function webhookEndpoint(request) {
    const response = await handleWebhook({ headers: request.headers, body: request.body }, deps);
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };
}
