import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { signBody } from '../../functions/domain/webhook/signature.js';
import { isLocalHost } from '../../functions/local/local-host.js';
import { InFlightBudget, readSignedBody, type IntakeResult } from '../../functions/local/webhook-intake.js';
import { startTestFarm, type TestFarm } from './support/test-farm.js';

const SECRET = 'intake-secret';
const MiB = 1024 * 1024;

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends a POST by hand, so the body can be streamed, larger than declared, or cut short. */
function post(port: number, body: Buffer, headers: Record<string, string>, host = `127.0.0.1:${port}`): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/webhook', headers: { host, 'content-length': String(body.length), ...headers } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    // The server may answer and close before the whole body is sent: that is the point.
    request.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? resolve({ status: -1, headers: {}, body: '' }) : reject(error)));
    request.end(body);
  });
}

/** A POST whose body the test writes piece by piece (to hold bytes in flight on purpose). */
function openBody(port: number, length: number, signature: string): { request: ReturnType<typeof httpRequest>; reply: Promise<Reply> } {
  let request!: ReturnType<typeof httpRequest>;
  const reply = new Promise<Reply>((resolve, reject) => {
    request = httpRequest({ port, host: '127.0.0.1', method: 'POST', path: '/webhook', headers: { 'content-length': String(length), 'x-hub-signature-256': signature } }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
    });
    request.on('error', reject);
  });
  return { request, reply };
}

describe('Function: readSignedBody (webhook intake)', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  /** A server that answers with the intake's verdict and counts the bytes it held. */
  async function intakeServer(budget: InFlightBudget, maxBodyBytes = 25 * MiB): Promise<{ port: number; results: IntakeResult[] }> {
    const results: IntakeResult[] = [];
    server = createServer(async (request, response) => {
      const result = await readSignedBody(request, { secret: SECRET, budget, maxBodyBytes });
      results.push(result);
      if (result.kind === 'accepted') {
        // Hold the body a moment, as a handler publishing it would.
        await new Promise((resolve) => setTimeout(resolve, 20));
        response.writeHead(202).end(String(result.body.length));
        result.release();
      } else {
        response.writeHead(result.statusCode, result.headers).end(result.error);
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', () => resolve()));
    return { port: (server!.address() as AddressInfo).port, results };
  }

  it('refuses a body without a signature with 401 before reading any of it', async () => {
    // Prepare
    const budget = new InFlightBudget(8 * MiB);
    const { port } = await intakeServer(budget);
    // Act
    const reply = await post(port, Buffer.alloc(4 * MiB, 1), { 'content-type': 'application/json' });
    // Assess
    expect([401, -1]).toContain(reply.status);
    expect(budget.highWater).toBe(0);
  });

  it('refuses a declared Content-Length above the cap with 413 before reading', async () => {
    // Prepare
    const budget = new InFlightBudget(64 * MiB);
    const { port } = await intakeServer(budget, 1 * MiB);
    const body = Buffer.alloc(2 * MiB, 1);
    // Act
    const reply = await post(port, body, { 'x-hub-signature-256': signBody(SECRET, body) });
    // Assess
    expect([413, -1]).toContain(reply.status);
    expect(budget.highWater).toBe(0);
  });

  it('accepts a correctly signed body whole and gives its bytes back afterwards', async () => {
    // Prepare
    const budget = new InFlightBudget(8 * MiB);
    const { port, results } = await intakeServer(budget);
    const body = Buffer.from(JSON.stringify({ zen: 'Keep it logically awesome.', pad: 'x'.repeat(300_000) }));
    // Act
    const reply = await post(port, body, { 'x-hub-signature-256': signBody(SECRET, body) });
    // Assess
    expect(reply.status).toBe(202);
    expect(results[0].kind === 'accepted' && results[0].body.equals(body)).toBe(true);
    expect(budget.inFlightBytes).toBe(0);
  });

  it('drops a forged body (wrong HMAC, computed as it streamed) with 401 and holds nothing after', async () => {
    // Prepare
    const budget = new InFlightBudget(8 * MiB);
    const { port } = await intakeServer(budget);
    const body = Buffer.alloc(MiB, 7);
    // Act
    const reply = await post(port, body, { 'x-hub-signature-256': signBody('not-the-secret', body) });
    // Assess
    expect(reply.status).toBe(401);
    expect(reply.body).toContain('does not match');
    expect(budget.inFlightBytes).toBe(0);
  });

  it('never holds more than the ceiling: a body past it gets 503 with Retry-After, and every byte is given back', async () => {
    // Prepare: two 3 MiB bodies held open (sent, not ended) against an 8 MiB ceiling.
    const budget = new InFlightBudget(8 * MiB);
    const { port } = await intakeServer(budget);
    const chunk = Buffer.alloc(3 * MiB, 3);
    const forged = signBody('guess', Buffer.concat([chunk, chunk]));
    const open = [0, 1].map(() => openBody(port, 2 * chunk.length, forged));
    for (const body of open) body.request.write(chunk);
    await expect.poll(() => budget.inFlightBytes, { timeout: 10_000 }).toBe(6 * MiB);
    // Act: a third body that does not fit
    const third = await post(port, chunk, { 'x-hub-signature-256': forged });
    for (const body of open) body.request.end(chunk);
    const held = await Promise.all(open.map((body) => body.reply));
    // Assess
    // The third cannot fit while the two are held; whichever body then finds the budget full gets 503,
    // and the rest are forged (401). Nothing is ever accepted past the ceiling.
    expect(third.status === 503 || third.status === -1).toBe(true);
    for (const reply of [third, ...held]) {
      expect([401, 503, -1]).toContain(reply.status);
      if (reply.status === 503) expect(reply.headers['retry-after']).toBe('5');
    }
    expect(budget.highWater).toBeLessThanOrEqual(8 * MiB);
    expect(budget.inFlightBytes).toBe(0);
  });
});

describe('Function: isLocalHost', () => {
  it.each([
    ['localhost:8080', true],
    ['127.0.0.1', true],
    ['[::1]:3000', true],
    ['LOCALHOST', true],
    ['evil.example:8080', false],
    ['127.0.0.1.nip.io', false],
    ['localhost.evil.example', false],
    [undefined, false],
  ])('%s is local: %s', (host, expected) => {
    expect(isLocalHost(host)).toBe(expected);
  });
});

describe('Local farm server: intake and DNS rebinding', () => {
  let farm: TestFarm | undefined;
  afterEach(async () => {
    await farm?.close();
    farm = undefined;
  });

  it('answers the dashboard API only to local Host names (421 otherwise), while signed webhooks work under any Host', async () => {
    // Prepare
    farm = await startTestFarm();
    const port = Number(new URL(farm.url).port);
    const ping = Buffer.from(JSON.stringify({ zen: 'Design for failure.', hook_id: 1 }));
    const headers = { 'x-github-event': 'ping', 'x-github-delivery': 'd-1', 'content-type': 'application/json' };
    // Act
    const foreign = await fetchWithHost(port, '/api/builds', 'rebind.evil.example');
    const local = await fetchWithHost(port, '/api/builds', `localhost:${port}`);
    const tunnelled = await post(port, ping, { ...headers, 'x-hub-signature-256': signBody('test-secret', ping) }, 'abc.tunnel.example');
    // Assess
    expect(foreign).toBe(421);
    expect(local).toBe(200);
    expect(tunnelled.status).toBe(200);
  });

  it('sends the usual security headers with the dashboard and its API (no framing, no sniffing, only its own scripts)', async () => {
    // Prepare
    farm = await startTestFarm();
    // Act
    const page = await fetch(`${farm.url}/`);
    const api = await fetch(`${farm.url}/api/builds`);
    // Assess
    for (const response of [page, api]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    }
  });

  it('the farm refuses an unsigned delivery with 401, and a body past its in-flight ceiling with 503', async () => {
    // Prepare: a 4 MiB ceiling, 3 MiB of one body held open
    farm = await startTestFarm({ maxInFlightWebhookBytes: 4 * MiB });
    const port = Number(new URL(farm.url).port);
    const chunk = Buffer.alloc(3 * MiB, 5);
    const held = openBody(port, 2 * chunk.length, signBody('guess', Buffer.concat([chunk, chunk])));
    held.request.write(chunk);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Act
    const unsigned = await post(port, Buffer.alloc(MiB), { 'x-github-event': 'push' });
    // Whatever the held body has taken so far, 5 MiB can never fit under 4 MiB.
    const past = await post(port, Buffer.alloc(5 * MiB, 6), { 'x-github-event': 'push', 'x-hub-signature-256': signBody('guess', Buffer.alloc(5 * MiB, 6)) });
    held.request.end(chunk);
    const heldReply = await held.reply;
    // Assess
    expect([401, -1]).toContain(unsigned.status);
    expect([503, -1]).toContain(past.status);
    expect([401, 503]).toContain(heldReply.status);
  });
});

function fetchWithHost(port: number, path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ port, host: '127.0.0.1', path, headers: { host } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end();
  });
}
