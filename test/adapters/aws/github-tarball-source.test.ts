import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { text } from 'node:stream/consumers';
import { afterEach, describe, expect, it } from 'vitest';
import { GitHubTarballSource } from '../../../functions/adapters/aws/github-tarball-source.js';
import { SourceUnavailable } from '../../../functions/adapters/source-errors.js';

interface Seen {
  url?: string;
  headers: IncomingHttpHeaders;
}

/** Two local servers standing in for api.github.com (answers 302) and codeload.github.com (serves the bytes). */
async function startGitHub(): Promise<{ apiUrl: string; api: Seen[]; codeload: Seen[]; close(): Promise<void> }> {
  const api: Seen[] = [];
  const codeload: Seen[] = [];
  const codeloadServer = createServer((request, response) => {
    codeload.push({ url: request.url, headers: request.headers });
    response.writeHead(200, { 'content-type': 'application/x-gzip' }).end('TARBALL-BYTES');
  });
  const codeloadUrl = await listen(codeloadServer);
  const apiServer = createServer((request, response) => {
    api.push({ url: request.url, headers: request.headers });
    if (request.url?.startsWith('/repos/me/private/') && request.headers.authorization === undefined) {
      response.writeHead(404).end('{"message":"Not Found"}');
      return;
    }
    response.writeHead(302, { location: `${codeloadUrl}/legacy.tar.gz${request.url}` }).end();
  });
  const apiUrl = await listen(apiServer);
  return {
    apiUrl,
    api,
    codeload,
    close: async () => {
      await Promise.all([close(apiServer), close(codeloadServer)]);
    },
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );
}
function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

const SHA = '0123456789abcdef0123456789abcdef01234567';

describe('Class: GitHubTarballSource', () => {
  let github: Awaited<ReturnType<typeof startGitHub>> | undefined;
  afterEach(async () => {
    await github?.close();
  });

  describe('Method: snapshot', () => {
    it('requests the tarball API with the token and follows the redirect to the archive', async () => {
      // Prepare
      github = await startGitHub();
      const source = new GitHubTarballSource({ baseUrl: github.apiUrl, token: async () => 'ghs_secret' });
      // Act
      const body = await text(await source.snapshot({ repository: 'me/project', sha: SHA }));
      // Assess
      expect(body).toBe('TARBALL-BYTES');
      expect(github.api[0].url).toBe(`/repos/me/project/tarball/${SHA}`);
      expect(github.api[0].headers.authorization).toBe('Bearer ghs_secret');
      expect(github.api[0].headers['x-github-api-version']).toBe('2022-11-28');
      // The redirect goes to another origin: the token must not follow it.
      expect(github.codeload[0].headers.authorization).toBeUndefined();
    });

    it('works without a token for public repositories', async () => {
      // Prepare
      github = await startGitHub();
      const source = new GitHubTarballSource({ baseUrl: github.apiUrl });
      // Act
      const body = await text(await source.snapshot({ repository: 'me/project', sha: SHA }));
      // Assess
      expect(body).toBe('TARBALL-BYTES');
      expect(github.api[0].headers.authorization).toBeUndefined();
    });

    it('fails with SourceUnavailable and a hint when a private repository is asked for without a token', async () => {
      // Prepare
      github = await startGitHub();
      const source = new GitHubTarballSource({ baseUrl: github.apiUrl });
      // Act
      const error = await source.snapshot({ repository: 'me/private', sha: SHA }).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(SourceUnavailable);
      expect((error as Error).message).toContain('HTTP 404 (a private repository needs a token)');
    });

    it('refuses a sha that is not one, before any request', async () => {
      // Prepare
      github = await startGitHub();
      const source = new GitHubTarballSource({ baseUrl: github.apiUrl });
      // Act
      const error = await source.snapshot({ repository: 'me/project', sha: '../../x' }).catch((e: unknown) => e);
      // Assess
      expect(error).toBeInstanceOf(SourceUnavailable);
      expect(github.api).toHaveLength(0);
    });
  });
});
