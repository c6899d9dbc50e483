/**
 * The local farm's HTTP server (node:http, 127.0.0.1 only): the webhook
 * endpoint, the dashboard's static files, and its JSON API. Routing is a
 * handful of patterns, so no framework.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { BusMessage, TopicName } from '../adapters/local/local-bus.js';
import { TOPICS } from '../adapters/local/local-bus.js';
import type { BuildService } from './build-service.js';
import { parseRangeHeader } from './byte-range.js';
import { isLocalHost } from './local-host.js';
import { farmFile } from './farm-files.js';
import type { BudgetLine } from '../domain/budget/budget-view.js';
import { DEFAULT_MAX_IN_FLIGHT_BYTES, InFlightBudget, readSignedBody } from './webhook-intake.js';

/** The dashboard's files, served as they are (no build step). */
export const DASHBOARD_DIRECTORY = `${farmFile('functions', 'local', 'dashboard')}/`;
/** GitHub caps deliveries at 25 MB; the webhook core rejects more, this stops reading a little past it. */
const MAX_WEBHOOK_BODY_BYTES = 25 * 1024 * 1024 + 1;
/** Keeps SSE connections open through idle proxies and notices closed tabs. */
const SSE_HEARTBEAT_MS = 15_000;

export interface WebhookHttpRequest {
  /** Node's header shape, as received (a repeated header is a list). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface WebhookHttpResponse {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
}

/** The webhook handler, adapted to plain HTTP (see webhook-endpoint.ts). */
export type WebhookEndpoint = (request: WebhookHttpRequest) => Promise<WebhookHttpResponse>;

/** `GET /api/farm`: what the dashboard shows in its header and empty state. */
export interface FarmInfo {
  webhookPath: string;
  repositories: Array<{ repository: string; path: string }>;
  /** True when the secret came from GITHUB_WEBHOOK_SECRET (the secret itself is never served). */
  secretFromEnvironment: boolean;
  region: string;
  /** Spend against each configured budget (empty: no budget is set). */
  budgets?: BudgetLine[];
}

export interface FarmServerOptions {
  builds: BuildService;
  webhook: WebhookEndpoint;
  messages: (topic?: TopicName) => BusMessage[];
  info: () => FarmInfo | Promise<FarmInfo>;
  dashboardDirectory?: string;
  onError?: (error: unknown) => void;
  /**
   * The webhook secret: with it, a delivery's signature is checked while its body streams in,
   * and bodies share one in-flight ceiling (see webhook-intake.ts). Without it (tests of the
   * routing only), bodies are read whole up to GitHub's cap.
   */
  webhookSecret?: string;
  /** Ceiling on webhook body bytes held at once, across all requests (default 64 MiB). */
  maxInFlightWebhookBytes?: number;
}

/** Open connections at most; more wait in the kernel's backlog instead of costing memory here. */
export const MAX_CONNECTIONS = 256;

/**
 * On every dashboard and API answer: the dashboard loads only its own files (no inline script,
 * nothing from elsewhere), is never framed (clickjacking), and no answer is sniffed as another
 * type or sent on to another origin. https://owasp.org/www-project-secure-headers/
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};
/** A client gets this long to send its headers, and the whole request, before the socket is closed (slow-loris). */
const HEADERS_TIMEOUT_MS = 10_000;
const REQUEST_TIMEOUT_MS = 60_000;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

export function createFarmServer(options: FarmServerOptions): Server {
  const dashboard = options.dashboardDirectory ?? DASHBOARD_DIRECTORY;
  const budget = new InFlightBudget(options.maxInFlightWebhookBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES);
  const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (request, response) => {
    route(request, response).catch((error: unknown) => {
      options.onError?.(error);
      if (!response.headersSent) sendJson(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });

  server.maxConnections = MAX_CONNECTIONS;

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = request.method ?? 'GET';

    if (path === '/webhook') {
      if (method !== 'POST') return sendJson(response, 405, { error: 'POST a GitHub delivery here' }, { allow: 'POST' });
      return receiveWebhook(request, response);
    }
    // The dashboard and its API answer only to names of this machine: a web page elsewhere that
    // rebinds its own DNS name to 127.0.0.1 (DNS rebinding) gets 421, not the builds' logs.
    // The webhook above needs no such check: its signature is the authentication.
    if (!isLocalHost(request.headers.host)) return sendJson(response, 421, { error: 'the dashboard answers only to localhost, 127.0.0.1 or [::1]' });
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) response.setHeader(name, value);
    if (method !== 'GET' && method !== 'HEAD') return sendJson(response, 405, { error: 'method not allowed' }, { allow: 'GET' });

    if (path === '/api/builds') return sendJson(response, 200, options.builds.list());
    if (path === '/api/farm') return sendJson(response, 200, await options.info());
    if (path === '/api/events') return streamEvents(request, response, options.builds);
    if (path === '/api/messages') {
      const topic = url.searchParams.get('topic');
      if (topic !== null && !(TOPICS as readonly string[]).includes(topic)) {
        return sendJson(response, 400, { error: `topic must be one of ${TOPICS.join(', ')}` });
      }
      return sendJson(response, 200, options.messages((topic ?? undefined) as TopicName | undefined));
    }
    const build = /^\/api\/builds\/([^/]+)$/.exec(path);
    if (build) {
      const detail = options.builds.get(decodeURIComponent(build[1]));
      return detail ? sendJson(response, 200, detail) : sendJson(response, 404, { error: 'no such build' });
    }
    const log = /^\/api\/builds\/([^/]+)\/stages\/([^/]+)\/log$/.exec(path);
    if (log) {
      const read = await options.builds.log(decodeURIComponent(log[1]), decodeURIComponent(log[2]), parseRangeHeader(request.headers.range));
      if (read === undefined) return sendJson(response, 404, { error: 'no log for this stage (yet)' });
      if (read === 'unsatisfiable') return sendJson(response, 416, { error: 'the range starts past the end of the log' });
      const headers: Record<string, string> = {
        'content-type': 'text/plain; charset=utf-8',
        'cache-control': 'no-store',
        'accept-ranges': 'bytes',
        'content-length': String(read.length),
      };
      if (read.range !== undefined) headers['content-range'] = `bytes ${read.range.start}-${read.range.end}/${read.total}`;
      response.writeHead(read.range === undefined ? 200 : 206, headers);
      if (method === 'HEAD') {
        read.body.destroy();
        response.end();
        return;
      }
      await pipeline(read.body, response);
      return;
    }
    const artifact = /^\/api\/builds\/([^/]+)\/stages\/([^/]+)\/artifacts\/(.+)$/.exec(path);
    if (artifact) {
      const artifactPath = decodeURIComponent(artifact[3]);
      const body = await options.builds.artifact(decodeURIComponent(artifact[1]), decodeURIComponent(artifact[2]), artifactPath);
      if (body === undefined) return sendJson(response, 404, { error: 'no such artifact' });
      const fileName = artifactPath.split('/').pop() ?? 'artifact';
      response.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-disposition': `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`,
      });
      await pipeline(body, response);
      return;
    }
    if (path.startsWith('/api/')) return sendJson(response, 404, { error: 'no such endpoint' });
    return serveStatic(response, dashboard, path);
  }

  async function receiveWebhook(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (options.webhookSecret === undefined) {
      const body = await readBody(request, MAX_WEBHOOK_BODY_BYTES);
      if (body === undefined) return sendJson(response, 413, { error: 'the body is larger than GitHub sends' });
      return answerWebhook(response, await options.webhook({ headers: request.headers, body }));
    }
    const intake = await readSignedBody(request, { secret: options.webhookSecret, budget, maxBodyBytes: MAX_WEBHOOK_BODY_BYTES - 1 });
    if (intake.kind === 'refused') return sendJson(response, intake.statusCode, { error: intake.error }, intake.headers);
    try {
      answerWebhook(response, await options.webhook({ headers: request.headers, body: intake.body }));
    } finally {
      intake.release();
    }
  }

  return server;
}

function answerWebhook(response: ServerResponse, result: WebhookHttpResponse): void {
  response.writeHead(result.statusCode, { 'content-type': 'application/json', ...result.headers });
  response.end(result.body);
}

/** Listens on 127.0.0.1; resolves with the port (useful with port 0). */
export function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', onError);
      const address = server.address();
      resolve(typeof address === 'object' && address !== null ? address.port : port);
    });
  });
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > limit) {
      request.resume();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  response.end(JSON.stringify(body));
}

/** Server-sent events: one `build` event per change, carrying the build's summary. */
function streamEvents(request: IncomingMessage, response: ServerResponse, builds: BuildService): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
  response.write('retry: 2000\n\n');
  const unsubscribe = builds.onChange((summary) => response.write(`event: build\ndata: ${JSON.stringify(summary)}\n\n`));
  const heartbeat = setInterval(() => response.write(': keep-alive\n\n'), SSE_HEARTBEAT_MS);
  heartbeat.unref();
  request.on('close', () => {
    clearInterval(heartbeat);
    unsubscribe();
  });
}

async function serveStatic(response: ServerResponse, root: string, path: string): Promise<void> {
  const relative = path === '/' || path.startsWith('/builds/') ? 'index.html' : path.slice(1);
  const file = normalize(join(root, relative));
  // No escaping the dashboard directory with `..`.
  if (!file.startsWith(normalize(root.endsWith(sep) ? root : root + sep))) return sendJson(response, 404, { error: 'not found' });
  let size: number;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error('not a file');
    size = info.size;
  } catch {
    return sendJson(response, 404, { error: 'not found' });
  }
  response.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': String(size),
    'cache-control': 'no-cache',
  });
  await pipeline(createReadStream(file), response);
}
