/**
 * S3's authorization answers for a caller whose policy is like the farm's roles, in front of a
 * real S3 protocol server (s3rver): GetObject/HeadObject allowed on some prefixes, ListBucket
 * allowed only with an `s3:prefix` condition. What it models, from S3's documented rules:
 *
 * - a GetObject or HeadObject of a missing key answers 404 only to a caller allowed
 *   `s3:ListBucket` on the bucket, and 403 AccessDenied otherwise
 *   (https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html, "Permissions"). A
 *   GetObject request carries no `s3:prefix`, so a prefix-conditioned ListBucket does not count;
 * - a ListObjectsV2 is allowed when its `prefix` parameter matches an allowed `s3:prefix` pattern
 *   (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html);
 * - a GetObject outside the allowed prefixes is 403 whether the key exists or not.
 *
 * Why not moto or s3rver alone: s3rver checks no authorization, and moto 5.2.1 answers NoSuchKey
 * to every caller (moto/s3/responses.py has no branch on the caller's ListBucket), so neither can
 * show the 403. The requests still go to s3rver with valid SigV4 signatures: only the answer an
 * IAM decision changes is made here.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { S3Client } from '@aws-sdk/client-s3';
import { s3rverClient } from '../../functions/adapters/local/s3rver-client.js';

export interface CallerPolicy {
  /** Key patterns GetObject/HeadObject/PutObject are allowed on (`*` matches anything, as StringLike). */
  objects: string[];
  /** `s3:ListBucket`: `unconditioned`, or allowed only for these `s3:prefix` patterns. */
  listBucket: 'unconditioned' | string[];
}

export interface S3AccessRulesProxy {
  client: S3Client;
  close(): Promise<void>;
}

function like(pattern: string, value: string): boolean {
  const escaped = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`).test(value);
}

const ACCESS_DENIED = '<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>';

export async function startS3AccessRulesProxy(upstream: string, bucket: string, policy: CallerPolicy): Promise<S3AccessRulesProxy> {
  const target = new URL(upstream);
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const [, pathBucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    const deny = () => {
      req.resume();
      res.writeHead(403, { 'content-type': 'application/xml' });
      res.end(req.method === 'HEAD' ? undefined : ACCESS_DENIED);
    };
    if (pathBucket === bucket && key === '' && req.method === 'GET') {
      // ListObjects(V2): the prefix parameter is the s3:prefix condition key's value.
      const prefix = url.searchParams.get('prefix') ?? '';
      if (policy.listBucket !== 'unconditioned' && !policy.listBucket.some((p) => like(p, prefix))) return deny();
    } else if (pathBucket === bucket && key !== '') {
      if (!policy.objects.some((p) => like(p, key))) return deny();
    }
    const headers = { ...req.headers };
    delete headers.expect;
    const forward = httpRequest({ hostname: target.hostname, port: target.port, method: req.method, path: req.url, headers }, (answer) => {
      const reading = req.method === 'GET' || req.method === 'HEAD';
      if (answer.statusCode === 404 && reading && key !== '' && policy.listBucket !== 'unconditioned') {
        // S3's rule: without s3:ListBucket on the bucket, a missing key is 403, not 404.
        answer.resume();
        return deny();
      }
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const client = s3rverClient(`http://127.0.0.1:${port}`);
  return {
    client,
    async close() {
      client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
