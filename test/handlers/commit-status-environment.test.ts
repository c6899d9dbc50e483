import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { clearCaches } from '@aws-lambda-powertools/parameters';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { GitHubCommitStatusClient } from '../../functions/adapters/github/commit-status-client.js';
import { commitStatusesFromEnvironment } from '../../functions/handlers/commit-status-environment.js';
import { MissingSetting } from '../../functions/handlers/task-environment.js';

const secrets = mockClient(SecretsManagerClient);
const TOKEN_SECRET = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm/github-token-AbCdEf';
const TARGET = 'https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:aws:states:us-east-1:123456789012:execution:BuildFarm:b';

afterEach(() => {
  secrets.reset();
  clearCaches();
  vi.unstubAllGlobals();
});

describe('Function: commitStatusesFromEnvironment', () => {
  it('posts no statuses when no GitHub token secret is configured', async () => {
    // Act
    const statuses = await commitStatusesFromEnvironment({});

    // Assess
    expect(statuses).toBeUndefined();
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  it('reads the token from Secrets Manager once and posts with it as a Bearer token', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: 'github_pat_123\n' });
    const fetch = vi.fn(async (_url: string | URL | Request, _init?: RequestInit) => new Response('{}', { status: 201 }));
    vi.stubGlobal('fetch', fetch);

    // Act
    const first = await commitStatusesFromEnvironment({ GITHUB_TOKEN_SECRET_ARN: TOKEN_SECRET });
    const second = await commitStatusesFromEnvironment({ GITHUB_TOKEN_SECRET_ARN: TOKEN_SECRET });
    await first!.post('octo/app', 'abc123', { state: 'pending', context: 'buildfarm', description: 'building', targetUrl: TARGET });

    // Assess: cached by Powertools between warm invocations
    expect(first).toBeInstanceOf(GitHubCommitStatusClient);
    expect(second).toBeInstanceOf(GitHubCommitStatusClient);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe('https://api.github.com/repos/octo/app/statuses/abc123');
    expect((init!.headers as Record<string, string>).Authorization).toBe('Bearer github_pat_123');
  });

  it('refuses an empty secret rather than posting unauthenticated', async () => {
    // Prepare
    secrets.on(GetSecretValueCommand, { SecretId: TOKEN_SECRET }).resolves({ SecretString: '  ' });

    // Act
    const attempt = commitStatusesFromEnvironment({ GITHUB_TOKEN_SECRET_ARN: TOKEN_SECRET });

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(MissingSetting);
  });
});
