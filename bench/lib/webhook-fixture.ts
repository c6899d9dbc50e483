/**
 * The delivery every webhook figure uses: the signed push of events/webhook-push.json
 * (a real GitHub payload from @octokit/webhooks-examples, 7.7 kB), signed with its test secret.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './child.js';

export const WEBHOOK_SECRET = 'test-secret';

export interface Delivery {
  headers: Record<string, string>;
  body: string;
}

export function pushDelivery(): Delivery {
  const event = JSON.parse(readFileSync(join(ROOT, 'events', 'webhook-push.json'), 'utf8')) as Delivery & { isBase64Encoded: boolean };
  if (event.isBase64Encoded) throw new Error('events/webhook-push.json should carry its body as text');
  return { headers: event.headers, body: event.body };
}
