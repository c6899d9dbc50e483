/**
 * A bad network in front of any S3 server (s3rver, moto_server): an HTTP proxy on 127.0.0.1
 * that forwards every request unchanged (Host included, so SigV4 signatures hold) and answers
 * with the server's answer, except for requests a queued fault picks, whose answer it breaks
 * AFTER the response headers, where the SDK no longer retries:
 * - `cut`: the headers and `afterBytes` of the body, then the connection closes (FIN: the client
 *   sees Node's "aborted", ECONNRESET) or, with `reset`, is reset (RST: "read ECONNRESET");
 * - `stall`: the headers and `afterBytes` of the body, then silence with the connection open;
 *   `beforeHeaders` stalls before any answer at all;
 * - `trickle`: the whole body, `chunkBytes` at a time every `everyMs` (slow but progressing).
 *
 * Every request is recorded with its Range and If-Match headers, so a test can see how a client
 * resumed. `onRequest` runs (and is awaited) before a request is forwarded: a test can replace
 * the object between a cut and the resume.
 */
import { createServer, request as httpRequest, Agent, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type BodyFault =
  | { kind: 'cut'; afterBytes: number; reset?: boolean }
  | { kind: 'stall'; afterBytes: number }
  | { kind: 'stall'; beforeHeaders: true }
  | { kind: 'trickle'; chunkBytes: number; everyMs: number };

export interface ProxiedRequest {
  method: string;
  /** Path and query as sent, URL-decoded. */
  path: string;
  range?: string;
  ifMatch?: string;
  /** The fault this request's answer got, if any. */
  fault?: BodyFault;
}

export interface BodyCutProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  /** Breaks the next matching requests' answers, one fault each, in order. */
  breakNext(matches: (request: ProxiedRequest) => boolean, ...faults: BodyFault[]): void;
  /** Breaks every matching request's answer the same way until `clear`. */
  breakAll(matches: (request: ProxiedRequest) => boolean, fault: BodyFault): void;
  onRequest(hook: ((request: ProxiedRequest) => Promise<void> | void) | undefined): void;
  clear(): void;
  close(): Promise<void>;
}

export async function startBodyCutProxy(target: string): Promise<BodyCutProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: false });
  const requests: ProxiedRequest[] = [];
  let queued: Array<{ matches: (request: ProxiedRequest) => boolean; fault: BodyFault; always: boolean }> = [];
  let hook: ((request: ProxiedRequest) => Promise<void> | void) | undefined;

  const server: Server = createServer((incoming, outgoing) => {
    const request: ProxiedRequest = {
      method: incoming.method ?? 'GET',
      path: decodeURIComponent(incoming.url ?? '/'),
      ...(typeof incoming.headers.range === 'string' ? { range: incoming.headers.range } : {}),
      ...(typeof incoming.headers['if-match'] === 'string' ? { ifMatch: incoming.headers['if-match'] } : {}),
    };
    requests.push(request);
    const index = queued.findIndex((entry) => entry.matches(request));
    if (index >= 0) {
      request.fault = queued[index]!.fault;
      if (!queued[index]!.always) queued.splice(index, 1);
    }
    void Promise.resolve(hook?.(request)).then(() => {
      if (request.fault?.kind === 'stall' && 'beforeHeaders' in request.fault) return void incoming.resume();
      forward(incoming, outgoing, to, agent, request.fault);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    breakNext(matches, ...faults) {
      queued.push(...faults.map((fault) => ({ matches, fault, always: false })));
    },
    breakAll(matches, fault) {
      queued.push({ matches, fault, always: true });
    },
    onRequest(next) {
      hook = next;
    },
    clear() {
      queued = [];
      hook = undefined;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

function forward(incoming: IncomingMessage, outgoing: ServerResponse, to: URL, agent: Agent, fault: BodyFault | undefined): void {
  const headers = { ...incoming.headers };
  // SigV4 never signs Expect, and the proxy streams the body anyway.
  delete headers.expect;
  const upstream = httpRequest({ hostname: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers, agent }, (answer) => {
    outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
    if (fault === undefined || fault.kind === 'stall' && 'beforeHeaders' in fault) return void answer.pipe(outgoing);
    if (fault.kind === 'trickle') return trickle(answer, outgoing, fault.chunkBytes, fault.everyMs);
    breakAfter(answer, outgoing, fault.afterBytes, fault.kind === 'cut' ? (fault.reset ? 'reset' : 'close') : 'stall');
  });
  upstream.on('error', () => outgoing.destroy());
  incoming.pipe(upstream);
}

/** Sends `limit` bytes of the answer's body, then closes, resets or holds the client's connection. */
function breakAfter(answer: IncomingMessage, outgoing: ServerResponse, limit: number, then: 'close' | 'reset' | 'stall'): void {
  let sent = 0;
  answer.on('data', (chunk: Buffer) => {
    if (sent >= limit) return;
    const part = chunk.subarray(0, limit - sent);
    sent += part.length;
    const done = sent >= limit;
    if (done) answer.destroy();
    outgoing.write(part, () => {
      if (!done || then === 'stall') return;
      // After the bytes are flushed: the client has the headers and exactly `limit` bytes of body.
      setTimeout(() => (then === 'reset' ? outgoing.socket?.resetAndDestroy() : outgoing.socket?.destroy()), 20);
    });
  });
}

/** The whole body, slowly: `chunkBytes` every `everyMs`. */
function trickle(answer: IncomingMessage, outgoing: ServerResponse, chunkBytes: number, everyMs: number): void {
  const chunks: Buffer[] = [];
  answer.on('data', (chunk: Buffer) => chunks.push(chunk));
  answer.on('end', () => {
    const body = Buffer.concat(chunks);
    let offset = 0;
    const timer = setInterval(() => {
      if (outgoing.destroyed) return clearInterval(timer);
      outgoing.write(body.subarray(offset, offset + chunkBytes));
      offset += chunkBytes;
      if (offset >= body.length) {
        clearInterval(timer);
        outgoing.end();
      }
    }, everyMs);
  });
}
