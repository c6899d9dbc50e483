/**
 * GitHub's commit statuses API, over the global fetch:
 * `POST {baseUrl}/repos/{owner}/{repo}/statuses/{sha}`.
 * https://docs.github.com/en/rest/commits/statuses#create-a-commit-status
 *
 * The base URL is `https://api.github.com` or a GitHub Enterprise Server's
 * `https://{host}/api/v3`. Server errors and rate limits are retried a couple
 * of times with jittered backoff; any other refusal fails at once with an
 * error that names the status code and GitHub's message.
 * https://docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api#handle-rate-limit-errors-appropriately
 */
import type { CommitStatus, CommitStatusPort } from '../../ports/commit-status.js';

export const GITHUB_API_URL = 'https://api.github.com';
/** https://docs.github.com/en/rest/about-the-rest-api/api-versions */
export const GITHUB_API_VERSION = '2022-11-28';
export const DEFAULT_USER_AGENT = 'buildfarm';

/** Tries per status (the first and two retries). */
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BASE_DELAY_MS = 500;
/** A longer wait than this (a Retry-After of minutes) is not worth a Lambda's time: it fails instead. */
export const DEFAULT_MAX_DELAY_MS = 10_000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;

/** A commit status GitHub did not accept; `status` is the HTTP status when there was a response. */
export class CommitStatusFailed extends Error {
  override readonly name = 'CommitStatusFailed';
  constructor(
    message: string,
    readonly status?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface GitHubCommitStatusOptions {
  /** A token with `repo:status` (classic) or "Commit statuses: write" (fine-grained, GitHub App). */
  token: string;
  baseUrl?: string;
  userAgent?: string;
  attempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  requestTimeoutMs?: number;
  /** Injected in tests; the global fetch otherwise. */
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Refusal {
  status: number;
  message: string;
  /** How long GitHub asked us to wait, when it did. */
  retryAfterMs?: number;
  retryable: boolean;
}

export class GitHubCommitStatusClient implements CommitStatusPort {
  private readonly baseUrl: string;
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: GitHubCommitStatusOptions) {
    this.baseUrl = (options.baseUrl ?? GITHUB_API_URL).replace(/\/+$/, '');
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? defaultSleep;
    this.random = options.random ?? Math.random;
  }

  /** The request URL; every path segment is encoded, so a hostile name cannot change the route. */
  statusUrl(repository: string, sha: string): string {
    const [owner, repo, ...rest] = repository.split('/');
    if (!owner || !repo || rest.length > 0) throw new CommitStatusFailed(`repository must be owner/name, got ${JSON.stringify(repository)}`);
    const segment = encodeURIComponent;
    return `${this.baseUrl}/repos/${segment(owner)}/${segment(repo)}/statuses/${segment(sha)}`;
  }

  async post(repository: string, sha: string, status: CommitStatus): Promise<void> {
    const url = this.statusUrl(repository, sha);
    const body = JSON.stringify({
      state: status.state,
      target_url: status.targetUrl,
      description: status.description,
      context: status.context,
    });
    const attempts = Math.max(1, this.options.attempts ?? DEFAULT_ATTEMPTS);
    const where = `${status.context} on ${repository}@${sha}`;
    for (let attempt = 1; ; attempt++) {
      let refusal: Refusal;
      try {
        const response = await this.fetch(url, {
          method: 'POST',
          headers: this.headers(),
          body,
          signal: AbortSignal.timeout(this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS),
        });
        if (response.ok) {
          await response.body?.cancel();
          return;
        }
        refusal = await readRefusal(response);
      } catch (error) {
        // No response at all (connection refused, reset, timeout): worth another try.
        if (attempt >= attempts) {
          throw new CommitStatusFailed(`GitHub status ${where}: request failed: ${(error as Error).message}`, undefined, { cause: error });
        }
        await this.sleep(this.backoffMs(attempt));
        continue;
      }
      const wait = refusal.retryAfterMs ?? this.backoffMs(attempt);
      const maxDelay = this.options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
      if (!refusal.retryable || attempt >= attempts || wait > maxDelay) {
        const tries = attempt > 1 ? ` after ${attempt} attempts` : '';
        const asked = refusal.retryable && wait > maxDelay ? ` (GitHub asked to wait ${Math.ceil(wait / 1000)}s)` : '';
        throw new CommitStatusFailed(`GitHub status ${where}: HTTP ${refusal.status}${tries}: ${refusal.message}${asked}`, refusal.status);
      }
      await this.sleep(wait);
    }
  }

  private headers(): Record<string, string> {
    return {
      Authorization: `Bearer ${this.options.token}`,
      Accept: 'application/vnd.github+json',
      'X-GitHub-Api-Version': GITHUB_API_VERSION,
      'User-Agent': this.options.userAgent ?? DEFAULT_USER_AGENT,
      'Content-Type': 'application/json',
    };
  }

  /** Exponential, with jitter so parallel builds do not retry in step: 0.5x to 1x of base·2^(n-1). */
  private backoffMs(attempt: number): number {
    const ceiling = (this.options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS) * 2 ** (attempt - 1);
    return Math.round(ceiling * (0.5 + this.random() / 2));
  }
}

/**
 * What a non-2xx response means. 5xx: GitHub's side, retry. 429, or 403 with
 * Retry-After, no remaining quota or a "secondary rate limit" message: a rate
 * limit, retry after the time GitHub names. Anything else (401 bad token, 404
 * no access, 422 invalid status) would fail again the same way.
 */
async function readRefusal(response: Response): Promise<Refusal> {
  const text = await response.text().catch(() => '');
  let message = text.slice(0, 500) || response.statusText;
  try {
    const json = JSON.parse(text) as { message?: unknown; errors?: unknown };
    if (typeof json.message === 'string') {
      const details = Array.isArray(json.errors) ? json.errors.map((e) => (typeof e === 'string' ? e : JSON.stringify(e))).join('; ') : '';
      message = details ? `${json.message} (${details.slice(0, 500)})` : json.message;
    }
  } catch {
    // Not JSON (a proxy's error page): the text as it is.
  }
  const status = response.status;
  const retryAfter = Number(response.headers.get('retry-after'));
  const retryAfterMs = Number.isFinite(retryAfter) && retryAfter >= 0 && response.headers.has('retry-after') ? retryAfter * 1000 : undefined;
  const rateLimited =
    status === 429 ||
    (status === 403 && (retryAfterMs !== undefined || response.headers.get('x-ratelimit-remaining') === '0' || /rate limit/i.test(message)));
  let waitMs = retryAfterMs;
  if (rateLimited && waitMs === undefined && response.headers.get('x-ratelimit-remaining') === '0') {
    // The primary limit resets at an epoch second GitHub names; without a clock here, the Date header stands in for now.
    const reset = Number(response.headers.get('x-ratelimit-reset'));
    const now = Date.parse(response.headers.get('date') ?? '');
    if (Number.isFinite(reset) && Number.isFinite(now)) waitMs = Math.max(0, reset * 1000 - now);
  }
  return { status, message, retryAfterMs: waitMs, retryable: status >= 500 || rateLimited };
}
