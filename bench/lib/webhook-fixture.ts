/**
 * The delivery every webhook figure uses: the signed push of events/webhook-push.json
 * (a real GitHub payload from @octokit/webhooks-examples, 7.7 kB), signed with its test secret.
 */
import { readFileSync } from 'node:fs';
import { request, type Agent } from 'node:http';
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

/** POSTs a delivery to the farm's /webhook; resolves with the status. The delivery id is not signed, so each request can carry its own. */
export function postDelivery(agent: Agent, port: number, delivery: Delivery, deliveryId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { ...delivery.headers, host: `127.0.0.1:${port}`, 'x-github-delivery': deliveryId };
    const req = request({ host: '127.0.0.1', port, path: '/webhook', method: 'POST', agent, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(delivery.body);
  });
}
