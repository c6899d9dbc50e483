/**
 * A counting HTTP proxy in front of s3rver: it tallies every S3 request by the price tier S3 bills
 * it at, from the HTTP request alone (method and query string), independently of the SDK middleware
 * it checks (functions/adapters/aws/s3-request-counter.ts). Tiers from https://aws.amazon.com/s3/pricing/:
 * tier 1 PUT, COPY, POST and LIST (GET ?list-type, ?uploads, ?uploadId: ListObjects, ListMultipartUploads,
 * ListParts); tier 2 every other GET and HEAD; DELETE free.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServerTally {
  tier1: number;
  tier2: number;
  free: number;
  /** `METHOD ?query-keys` per request, in order. */
  log: string[];
}

export interface TallyProxy {
  endpoint: string;
  tally: ServerTally;
  reset(): void;
  close(): Promise<void>;
}

function tierOf(request: IncomingMessage): keyof Omit<ServerTally, 'log'> {
  const url = new URL(request.url ?? '/', 'http://proxy');
  const method = request.method ?? 'GET';
  if (method === 'DELETE') return 'free';
  if (method === 'PUT' || method === 'POST') return 'tier1';
  // A bucket-level GET with no key is a listing (ListObjects/V2); ?uploads and ?uploadId list uploads or parts.
  const isList = url.searchParams.has('list-type') || url.searchParams.has('uploads') || url.searchParams.has('uploadId') || url.pathname.split('/').filter(Boolean).length <= 1;
  return method === 'GET' && isList ? 'tier1' : 'tier2';
}

export async function startTallyProxy(target: string): Promise<TallyProxy> {
  const upstream = new URL(target);
  const tally: ServerTally = { tier1: 0, tier2: 0, free: 0, log: [] };
  const server: Server = createServer((request, response) => {
    tally[tierOf(request)] += 1;
    tally.log.push(`${request.method} ${[...new URL(request.url ?? '/', 'http://proxy').searchParams.keys()].join('&')}`);
    const forwarded = httpRequest(
      { hostname: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    tally,
    reset() {
      tally.tier1 = 0;
      tally.tier2 = 0;
      tally.free = 0;
      tally.log.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
