/**
 * A pass-through HTTP proxy in front of the embedded S3 that records every request it forwards
 * (method, path, arrival order). Every S3 client of a local build (the farm's own, each Lambda
 * stage's process, each Fargate helper) talks to the endpoint it is given, so counting at the
 * proxy sees every request that reached the S3 server, whichever process made it.
 */
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** Path and query, as sent (`/bucket/key?...`), URL-decoded. */
  path: string;
  /** Arrival order at the proxy, from 0. */
  order: number;
  /** Arrival time, ms since the epoch. */
  at: number;
}

export interface CountingProxy {
  endpoint: string;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const to = new URL(target);
  const agent = new Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    requests.push({ method: incoming.method ?? 'GET', path: decodeURIComponent(incoming.url ?? '/'), order: requests.length, at: Date.now() });
    const forwarded = httpRequest(
      { host: to.hostname, port: to.port, method: incoming.method, path: incoming.url, headers: incoming.headers, agent },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forwarded.on('error', (error) => {
      if (!outgoing.headersSent) outgoing.writeHead(502);
      outgoing.end(String(error));
    });
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
