/**
 * A faulty network between the S3 client and s3rver: an HTTP proxy on
 * 127.0.0.1 that forwards every request unchanged (Host included, so SigV4
 * signatures still hold), except the ones a fault picks, which it breaks the
 * way S3 or the network do: the connection cut after some bytes of the body
 * (mid-upload), or a 503 SlowDown answer.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { S3Client } from '@aws-sdk/client-s3';

export interface RequestSeen {
  method: string;
  url: string;
}

export interface Fault {
  /** Which requests it breaks (it still counts only those it breaks). */
  matches(request: RequestSeen): boolean;
  /**
   * `cut`: the socket is destroyed after `afterBytes` of the request body; `slowDown`: 503 SlowDown;
   * `cutResponse`: s3rver's answer is forwarded, headers and `afterBytes` of its body, then the
   * socket is destroyed (the client's response stream fails with Node's "aborted", ECONNRESET).
   */
  kind: 'cut' | 'slowDown' | 'cutResponse';
  afterBytes?: number;
  /** How many matching requests to break (default: all of them). */
  times?: number;
}

export interface FaultyS3Proxy {
  /** `http://127.0.0.1:PORT` of the proxy, for clients made elsewhere (the local farm's counted stores). */
  endpoint: string;
  /** An S3 client that goes through the proxy, configured as test/support/s3rver.ts configures its own. */
  client: S3Client;
  /** Every request, in order of arrival. */
  seen: RequestSeen[];
  /** Requests a fault broke. */
  broken: RequestSeen[];
  setFault(fault: Fault | undefined): void;
  close(): Promise<void>;
}

export async function startFaultyS3Proxy(upstream: string): Promise<FaultyS3Proxy> {
  const target = new URL(upstream);
  const seen: RequestSeen[] = [];
  const broken: RequestSeen[] = [];
  let fault: Fault | undefined;
  let brokenByFault = 0;

  const server: Server = createServer((req, res) => {
    const request = { method: req.method ?? 'GET', url: req.url ?? '/' };
    seen.push(request);
    if (fault !== undefined && fault.matches(request) && brokenByFault < (fault.times ?? Infinity)) {
      brokenByFault += 1;
      broken.push(request);
      if (fault.kind === 'cutResponse') {
        forward(req, res, target, fault.afterBytes ?? 0);
      } else if (fault.kind === 'slowDown') {
        drain(req, () => {
          res.writeHead(503, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>');
        });
      } else {
        const limit = fault.afterBytes ?? 0;
        let received = 0;
        const cut = () => req.socket.destroy();
        if (limit === 0) cut();
        req.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received >= limit) cut();
        });
        req.on('end', cut);
      }
      return;
    }
    forward(req, res, target);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const client = new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });

  return {
    endpoint: `http://127.0.0.1:${port}`,
    client,
    seen,
    broken,
    setFault(next) {
      fault = next;
      brokenByFault = 0;
    },
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Forwards `req` to s3rver and its answer back; with `cutAfter`, only that much of the answer's body, then the socket is cut. */
function forward(req: IncomingMessage, res: ServerResponse, target: URL, cutAfter?: number): void {
  const headers = { ...req.headers };
  // Not signed (SigV4 never signs Expect), and the proxy streams the body anyway.
  delete headers.expect;
  const upstream = httpRequest(
    { hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      if (cutAfter === undefined) return void answer.pipe(res);
      let sent = 0;
      answer.on('data', (chunk: Buffer) => {
        if (sent >= cutAfter) return;
        res.write(chunk.subarray(0, cutAfter - sent));
        sent += chunk.length;
        if (sent >= cutAfter) {
          answer.destroy();
          // After the write is flushed, so the client has headers and part of the body.
          setTimeout(() => req.socket.destroy(), 20);
        }
      });
    },
  );
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
}

function drain(req: IncomingMessage, then: () => void): void {
  req.on('data', () => undefined);
  req.on('end', then);
}
