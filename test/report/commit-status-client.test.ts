import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommitStatusFailed, GitHubCommitStatusClient } from '../../functions/adapters/github/commit-status-client.js';
import type { CommitStatus } from '../../functions/ports/commit-status.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A GitHub stand-in on 127.0.0.1 that answers from a script and keeps every request. */
class ScriptedGitHub {
  readonly received: Received[] = [];
  replies: Reply[] = [];
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        this.received.push({ method: request.method!, url: request.url!, headers: request.headers, body: Buffer.concat(chunks).toString('utf8') });
        const reply = this.replies.shift() ?? { status: 201, body: { id: 1, state: 'success' } };
        response.writeHead(reply.status, { 'content-type': 'application/json; charset=utf-8', ...reply.headers });
        response.end(reply.body === undefined ? '' : typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    if (!this.server?.listening) return;
    await new Promise<void>((resolve, reject) => this.server?.close((error) => (error ? reject(error) : resolve())));
  }
}

const STATUS: CommitStatus = {
  context: 'buildfarm/test',
  state: 'failure',
  description: 'failed in 12s · $0.0001 (Lambda 2048 MB) — CommandFailed: npm test exited 1',
  targetUrl: 'https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:1:execution:B:d',
};
const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('Class: GitHubCommitStatusClient', () => {
  let github: ScriptedGitHub;
  let baseUrl: string;
  let waits: number[];

  beforeEach(async () => {
    github = new ScriptedGitHub();
    baseUrl = await github.start();
    waits = [];
  });

  afterEach(async () => {
    await github.stop();
  });

  const client = (options: Partial<ConstructorParameters<typeof GitHubCommitStatusClient>[0]> = {}) =>
    new GitHubCommitStatusClient({
      token: 'ghp_secret',
      baseUrl: `${baseUrl}/api/v3/`,
      userAgent: 'buildfarm-test',
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 1,
      ...options,
    });

  describe('Method: post', () => {
    it('posts state, target_url, description and context to /repos/{owner}/{repo}/statuses/{sha} with GitHub headers', async () => {
      // Act
      await client().post('acme/api', SHA, STATUS);

      // Assess
      expect(github.received).toHaveLength(1);
      const [request] = github.received;
      expect(request!.method).toBe('POST');
      expect(request!.url).toBe(`/api/v3/repos/acme/api/statuses/${SHA}`);
      expect(request!.headers).toMatchObject({
        authorization: 'Bearer ghp_secret',
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'buildfarm-test',
        'content-type': 'application/json',
      });
      expect(JSON.parse(request!.body)).toEqual({
        state: 'failure',
        target_url: STATUS.targetUrl,
        description: STATUS.description,
        context: 'buildfarm/test',
      });
    });

    it('retries a 502 with backoff and succeeds', async () => {
      // Prepare
      github.replies = [{ status: 502, body: 'Bad Gateway' }, { status: 502, body: 'Bad Gateway' }, { status: 201, body: { id: 2 } }];

      // Act
      await client({ baseDelayMs: 100 }).post('acme/api', SHA, STATUS);

      // Assess
      expect(github.received).toHaveLength(3);
      expect(new Set(github.received.map((r) => r.body)).size).toBe(1);
      expect(waits).toEqual([100, 200]);
    });

    it('gives up after the last attempt and names the status code', async () => {
      // Prepare
      github.replies = [{ status: 503 }, { status: 503 }, { status: 503, body: { message: 'Service Unavailable' } }];

      // Act
      const attempt = client().post('acme/api', SHA, STATUS);

      // Assess
      await expect(attempt).rejects.toThrow(new CommitStatusFailed(`GitHub status buildfarm/test on acme/api@${SHA}: HTTP 503 after 3 attempts: Service Unavailable`, 503));
      expect(github.received).toHaveLength(3);
    });

    it('fails at once on 422 with GitHub\'s message and the status code', async () => {
      // Prepare
      github.replies = [{ status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Status', code: 'custom', message: 'description is too long (maximum is 140 characters)' }] } }];

      // Act
      const error = await client().post('acme/api', SHA, STATUS).catch((e: unknown) => e);

      // Assess
      expect(error).toBeInstanceOf(CommitStatusFailed);
      expect((error as CommitStatusFailed).name).toBe('CommitStatusFailed');
      expect((error as CommitStatusFailed).status).toBe(422);
      expect((error as Error).message).toContain('HTTP 422: Validation Failed');
      expect((error as Error).message).toContain('description is too long');
      expect((error as Error).message).not.toContain('ghp_secret');
      expect(github.received).toHaveLength(1);
    });

    it('waits as long as a secondary rate limit asks, then retries', async () => {
      // Prepare
      github.replies = [{ status: 403, headers: { 'retry-after': '3' }, body: { message: 'You have exceeded a secondary rate limit.' } }];

      // Act
      await client().post('acme/api', SHA, STATUS);

      // Assess
      expect(waits).toEqual([3000]);
      expect(github.received).toHaveLength(2);
    });

    it('does not wait minutes for a rate limit: it fails naming the status', async () => {
      // Prepare
      github.replies = [{ status: 429, headers: { 'retry-after': '120' }, body: { message: 'rate limited' } }];

      // Act
      const attempt = client().post('acme/api', SHA, STATUS);

      // Assess
      await expect(attempt).rejects.toMatchObject({ name: 'CommitStatusFailed', status: 429, message: expect.stringContaining('HTTP 429: rate limited (GitHub asked to wait 120s)') });
      expect(waits).toEqual([]);
    });

    it('does not retry a 403 that is not a rate limit (a token without access)', async () => {
      // Prepare
      github.replies = [{ status: 403, body: { message: 'Resource not accessible by integration' } }];

      // Act
      const attempt = client().post('acme/api', SHA, STATUS);

      // Assess
      await expect(attempt).rejects.toMatchObject({ status: 403 });
      expect(github.received).toHaveLength(1);
    });

    it('retries when the connection fails, and reports the failure without a status code', async () => {
      // Prepare: a port nothing listens on.
      await github.stop();
      const closed = client({ attempts: 2 });

      // Act
      const error = await closed.post('acme/api', SHA, STATUS).catch((e: unknown) => e);

      // Assess
      expect(error).toMatchObject({ name: 'CommitStatusFailed', status: undefined });
      expect((error as Error).message).toContain('request failed');
      expect(waits).toHaveLength(1);
    });

    it('encodes each path segment, so a hostile name cannot change the route', () => {
      expect(client().statusUrl('acme/a?b#c', 'x/../y')).toBe(`${baseUrl}/api/v3/repos/acme/a%3Fb%23c/statuses/x%2F..%2Fy`);
      expect(() => client().statusUrl('acme', SHA)).toThrow(CommitStatusFailed);
    });

    it('talks to api.github.com by default', () => {
      expect(new GitHubCommitStatusClient({ token: 't' }).statusUrl('acme/api', SHA)).toBe(`https://api.github.com/repos/acme/api/statuses/${SHA}`);
    });
  });
});
