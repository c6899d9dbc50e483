/**
 * A webhook server for the requests-per-second figure, in its own process:
 * - `farm`: the local farm's HTTP server (createFarmServer) with its real webhook endpoint
 *   (handleWebhook) publishing to the real local bus, which appends every BuildRequest to
 *   a JSON Lines file. No build is started from the bus (nothing subscribes), so the figure
 *   is the webhook path alone, not builds competing for the two cores.
 * - `bare`: node:http doing only the baseline work: HMAC check plus JSON.parse, answer 202.
 * Prints `{"port":N}` when listening; stops when stdin closes, once the bus has written everything.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import type { BuildService } from '../../functions/local/build-service.js';
import { createFarmServer, listen } from '../../functions/local/server.js';
import { createWebhookEndpoint } from '../../functions/local/webhook-endpoint.js';
import { stdinClosed } from '../lib/child.js';
import { WEBHOOK_SECRET } from '../lib/webhook-fixture.js';

interface Served {
  server: Server;
  close(): Promise<void>;
}

/** The dashboard routes are not measured; the farm server needs something to answer them. */
const NO_BUILDS: BuildService = {
  list: () => [],
  get: () => undefined,
  log: async () => undefined,
  artifact: async () => undefined,
  onChange: () => () => undefined,
};

async function farmServer(dataDirectory: string): Promise<Served> {
  const bus = await LocalBus.open({ file: join(dataDirectory, 'bus', 'messages.jsonl') });
  const server = createFarmServer({
    builds: NO_BUILDS,
    webhook: createWebhookEndpoint({ secret: WEBHOOK_SECRET, notifier: bus.notifier('BuildRequests'), now: () => new Date() }),
    messages: (topic) => bus.messages(topic),
    info: () => ({ webhookPath: '/webhook', repositories: [], secretFromEnvironment: false, region: 'us-east-1' }),
  });
  return { server, close: () => bus.idle() };
}

function bareServer(): Served {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = String(request.headers['x-hub-signature-256'] ?? '');
      const expected = createHmac('sha256', WEBHOOK_SECRET).update(body).digest();
      const received = Buffer.from(header.slice('sha256='.length), 'hex');
      if (received.length !== expected.length || !timingSafeEqual(received, expected)) {
        response.writeHead(401).end();
        return;
      }
      JSON.parse(body.toString('utf8'));
      response.writeHead(202, { 'content-type': 'application/json' }).end('{"status":"accepted"}');
    });
  });
  return { server, close: async () => undefined };
}

const [mode, dataDirectory] = process.argv.slice(2);
const served = mode === 'farm' ? await farmServer(dataDirectory) : bareServer();
const port = await listen(served.server, 0);
console.log(JSON.stringify({ port }));
await stdinClosed();
await served.close();
served.server.closeAllConnections();
served.server.close();
