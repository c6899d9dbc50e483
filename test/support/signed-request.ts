import { signBody } from '../../functions/domain/webhook/signature.js';
import type { WebhookRequest } from '../../functions/handlers/webhook-core.js';

export const TEST_SECRET = 'test-secret';

/** A delivery as GitHub sends it: JSON body, event and delivery headers, signed with the secret. */
export function signedRequest(event: string, payload: unknown, options: { deliveryId?: string; secret?: string } = {}): WebhookRequest {
  const body = JSON.stringify(payload);
  return {
    headers: {
      'content-type': 'application/json',
      'x-github-event': event,
      'x-github-delivery': options.deliveryId ?? '72d3162e-cc78-11e3-81ab-4c9367dc0958',
      'x-hub-signature-256': signBody(options.secret ?? TEST_SECRET, body),
    },
    body,
  };
}
