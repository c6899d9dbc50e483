/**
 * webhook: how fast a delivery is acknowledged.
 * - In process: `handleWebhook` (signature check, parse, normalise, publish through a
 *   Notifier that answers at once) against a bare HMAC check plus JSON.parse of the same body.
 * - Over HTTP on 127.0.0.1: requests per second through the local farm's server and webhook
 *   endpoint (publishing to the real local bus), against a bare node:http server doing the
 *   baseline work. Client and server are separate processes on the same two cores.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleWebhook, type WebhookDeps } from '../functions/handlers/webhook-core.js';
import type { Notifier } from '../functions/ports/notifier.js';
import { startWorker } from './lib/child.js';
import { below, atLeast, type Figure, type SectionResult } from './lib/figure.js';
import { msSince, percentile, ratio, round } from './lib/stats.js';
import { postDelivery, pushDelivery, WEBHOOK_SECRET, type Delivery } from './lib/webhook-fixture.js';

export const WEBHOOK_SETTINGS = {
  warmupIterations: 2_000,
  iterations: 20_000,
  httpConcurrency: 16,
  httpWarmupRequests: 500,
  httpSeconds: 5,
  httpMaxRequests: 50_000,
};

/** A Notifier that acknowledges at once: the figure is the handler, not SNS's round trip. */
function instantNotifier(): Notifier {
  let next = 0;
  return { publish: async () => ({ messageId: `m-${(next += 1)}` }) };
}

function bareCheck(delivery: Delivery, body: Buffer): unknown {
  const header = delivery.headers['x-hub-signature-256'];
  const expected = createHmac('sha256', WEBHOOK_SECRET).update(body).digest();
  const received = Buffer.from(header.slice('sha256='.length), 'hex');
  if (received.length !== expected.length || !timingSafeEqual(received, expected)) throw new Error('the fixture signature does not verify');
  return JSON.parse(body.toString('utf8'));
}

async function inProcess(delivery: Delivery): Promise<{ handler: number[]; bare: number[] }> {
  const body = Buffer.from(delivery.body, 'utf8');
  const deps: WebhookDeps = { secret: WEBHOOK_SECRET, notifier: instantNotifier(), now: () => new Date() };
  const first = await handleWebhook({ headers: delivery.headers, body }, deps);
  if (first.outcome !== 'accepted') throw new Error(`the fixture delivery was ${first.outcome}, not accepted: ${first.body}`);

  const handler: number[] = [];
  const bare: number[] = [];
  const { warmupIterations, iterations } = WEBHOOK_SETTINGS;
  // Interleaved, so both see the same garbage collector and CPU frequency.
  for (let i = 0; i < warmupIterations + iterations; i += 1) {
    let start = process.hrtime.bigint();
    const response = await handleWebhook({ headers: delivery.headers, body }, deps);
    const handlerMs = msSince(start);
    if (response.statusCode !== 202) throw new Error(`handleWebhook answered ${response.statusCode}`);
    start = process.hrtime.bigint();
    bareCheck(delivery, body);
    const bareMs = msSince(start);
    if (i >= warmupIterations) {
      handler.push(handlerMs);
      bare.push(bareMs);
    }
  }
  return { handler, bare };
}

interface LoadResult {
  requests: number;
  seconds: number;
  perSecond: number;
  accepted: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
}


async function load(port: number, delivery: Delivery, label: string): Promise<LoadResult> {
  const { httpConcurrency, httpWarmupRequests, httpSeconds, httpMaxRequests } = WEBHOOK_SETTINGS;
  const agent = new Agent({ keepAlive: true, maxSockets: httpConcurrency });
  try {
    let sent = 0;
    const warm = async () => {
      while (sent < httpWarmupRequests) await postDelivery(agent, port, delivery, `${label}-warm-${(sent += 1)}`);
    };
    await Promise.all(Array.from({ length: httpConcurrency }, warm));

    const latencies: number[] = [];
    let accepted = 0;
    let errors = 0;
    let requests = 0;
    const started = process.hrtime.bigint();
    const deadline = started + BigInt(httpSeconds * 1e9);
    const worker = async () => {
      while (requests < httpMaxRequests && process.hrtime.bigint() < deadline) {
        requests += 1;
        const at = process.hrtime.bigint();
        const status = await postDelivery(agent, port, delivery, `${label}-${requests}`).catch(() => 0);
        latencies.push(msSince(at));
        if (status === 202) accepted += 1;
        else errors += 1;
      }
    };
    await Promise.all(Array.from({ length: httpConcurrency }, worker));
    const seconds = msSince(started) / 1000;
    return {
      requests,
      seconds: round(seconds),
      perSecond: round(requests / seconds),
      accepted,
      errors,
      p50Ms: round(percentile(latencies, 0.5)),
      p99Ms: round(percentile(latencies, 0.99)),
    };
  } finally {
    agent.destroy();
  }
}

async function overHttp(delivery: Delivery): Promise<{ farm: LoadResult; bare: LoadResult; published: number }> {
  const data = await mkdtemp(join(tmpdir(), 'bench-webhook-'));
  try {
    const bareServer = await startWorker<{ port: number }>('bench/workers/webhook-server.ts', ['bare']);
    let bare: LoadResult;
    try {
      bare = await load(bareServer.ready.port, delivery, 'bare');
    } finally {
      await bareServer.stop();
    }
    const farmServer = await startWorker<{ port: number }>('bench/workers/webhook-server.ts', ['farm', data]);
    let farm: LoadResult;
    try {
      farm = await load(farmServer.ready.port, delivery, 'farm');
    } finally {
      await farmServer.stop();
    }
    const lines = (await readFile(join(data, 'bus', 'messages.jsonl'), 'utf8')).split('\n').filter((line) => line.length > 0);
    return { farm, bare, published: lines.length };
  } finally {
    await rm(data, { recursive: true, force: true });
  }
}

export async function benchWebhook(): Promise<SectionResult> {
  const delivery = pushDelivery();
  const local = await inProcess(delivery);
  const http = await overHttp(delivery);
  const p50 = round(percentile(local.handler, 0.5));
  const p99 = round(percentile(local.handler, 0.99));
  const bareP50 = round(percentile(local.bare, 0.5));
  const bareP99 = round(percentile(local.bare, 0.99));
  const { iterations } = WEBHOOK_SETTINGS;
  const how = `handleWebhook on the signed 7.7 kB push of events/webhook-push.json, ${iterations} calls after ${WEBHOOK_SETTINGS.warmupIterations} warm-up, publishing through a Notifier that answers at once`;
  const httpHow = `${WEBHOOK_SETTINGS.httpConcurrency} keep-alive connections on 127.0.0.1 for ${WEBHOOK_SETTINGS.httpSeconds} s (client and server in separate processes) to the local farm's HTTP server and webhook endpoint, publishing to the local bus (JSON Lines file)`;
  const figures: Figure[] = [
    {
      section: 'webhook',
      name: 'handler p50 (in process)',
      value: p50,
      unit: 'ms',
      how,
      baseline: { name: 'HMAC check + JSON.parse, p50', value: bareP50, unit: 'ms' },
      ratio: ratio(p50, bareP50),
    },
    {
      section: 'webhook',
      name: 'handler p99 (in process)',
      value: p99,
      unit: 'ms',
      how,
      baseline: { name: 'HMAC check + JSON.parse, p99', value: bareP99, unit: 'ms' },
      ratio: ratio(p99, bareP99),
      goal: below(p99, 5, '< 5 ms'),
    },
    {
      section: 'webhook',
      name: 'requests per second over HTTP (local farm)',
      value: http.farm.perSecond,
      unit: 'req/s',
      how: `${httpHow}; ${http.farm.accepted} accepted (202), ${http.farm.errors} other, ${http.published - WEBHOOK_SETTINGS.httpWarmupRequests} published in the measured window`,
      baseline: { name: 'bare node:http server, HMAC + JSON.parse', value: http.bare.perSecond, unit: 'req/s' },
      ratio: ratio(http.farm.perSecond, http.bare.perSecond),
      goal: atLeast(http.farm.perSecond, 500, '>= 500 req/s'),
    },
    {
      section: 'webhook',
      name: 'HTTP latency p99 under that load (local farm)',
      value: http.farm.p99Ms,
      unit: 'ms',
      how: httpHow,
      baseline: { name: 'bare server p99', value: http.bare.p99Ms, unit: 'ms' },
      ratio: ratio(http.farm.p99Ms, http.bare.p99Ms),
    },
  ];
  return {
    figures,
    details: {
      inProcess: { iterations, handler: { p50Ms: p50, p99Ms: p99 }, bare: { p50Ms: bareP50, p99Ms: bareP99 } },
      http: { ...WEBHOOK_SETTINGS, farm: http.farm, bare: http.bare, busMessagesWritten: http.published },
    },
  };
}
