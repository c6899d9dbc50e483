/**
 * The source provider on AWS: GitHub's tarball API.
 * GET /repos/{owner}/{repo}/tarball/{ref} answers 302 to a short-lived
 * codeload URL; fetch follows it (and, the redirect being cross-origin,
 * does not forward the Authorization header).
 * https://docs.github.com/en/rest/repos/contents#download-a-repository-archive-tar
 *
 * The token is optional: public repositories need none; private ones need a
 * token with contents:read (read from Secrets Manager by the caller).
 */
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { SourceProvider, SourceRequest } from '../../ports/source-provider.js';
import { SourceUnavailable } from '../source-errors.js';

export interface GitHubTarballOptions {
  /** Returns the token to send, or undefined for anonymous access. */
  token?: () => Promise<string | undefined>;
  /** `https://api.github.com`, or a GitHub Enterprise Server API root (and a local server in tests). */
  baseUrl?: string;
  fetch?: typeof globalThis.fetch;
}

export class GitHubTarballSource implements SourceProvider {
  private readonly baseUrl: string;
  private readonly fetch: typeof globalThis.fetch;

  constructor(private readonly options: GitHubTarballOptions = {}) {
    this.baseUrl = (options.baseUrl ?? 'https://api.github.com').replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async snapshot(request: SourceRequest): Promise<Readable> {
    const [owner, repo, ...rest] = request.repository.split('/');
    if (!owner || !repo || rest.length > 0) throw new SourceUnavailable(`"${request.repository}" is not owner/name`);
    if (!/^[0-9a-f]{7,64}$/i.test(request.sha)) throw new SourceUnavailable(`"${request.sha}" is not a commit sha`);
    const url = `${this.baseUrl}/repos/${encodeURIComponent(owner)}/${encodeURIComponent(repo)}/tarball/${request.sha}`;
    const headers: Record<string, string> = {
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': '2022-11-28',
      'User-Agent': 'buildfarm',
    };
    const token = await this.options.token?.();
    if (token) headers.Authorization = `Bearer ${token}`;

    let response: Response;
    try {
      response = await this.fetch(url, { headers, redirect: 'follow' });
    } catch (error) {
      throw new SourceUnavailable(`could not reach ${this.baseUrl}: ${(error as Error).message}`, { cause: error });
    }
    if (!response.ok || response.body === null) {
      await response.body?.cancel();
      const hint = response.status === 404 && !token ? ' (a private repository needs a token)' : '';
      throw new SourceUnavailable(
        `GitHub tarball of ${request.repository}@${request.sha} failed: HTTP ${response.status}${hint}`,
      );
    }
    return Readable.fromWeb(response.body as WebReadableStream<Uint8Array>);
  }
}
