import { describe, expect, it } from 'vitest';
import { cacheScopeFor } from '../../../functions/domain/cache/scope.js';
import { stageBudgetSeconds, stageGrant } from '../../../functions/domain/credentials/grant.js';
import { MAX_SESSION_POLICY_CHARACTERS, roleSessionName, sessionDurationSeconds, stageSessionPolicy } from '../../../functions/domain/credentials/session-policy.js';
import { isSystemSecretArn } from '../../../functions/domain/credentials/system-secrets.js';

const BUCKET = 'arn:aws:s3:::buildfarm-artifactbucket-0123456789ab';

describe('Function: stageSessionPolicy', () => {
  it('stays under STS\'s 2,048 characters for the longest build id and stage name the farm makes', () => {
    // Execution names are at most 80 characters; stage names at most 64 (lint-names.ts STAGE_NAME_PATTERN).
    const policy = stageSessionPolicy(BUCKET, { readPrefix: `builds/${'b'.repeat(80)}/`, writePrefix: `builds/${'b'.repeat(80)}/stages/${'s'.repeat(64)}/` });
    expect(JSON.stringify(policy).length).toBeLessThan(MAX_SESSION_POLICY_CHARACTERS / 2);
  });

  it('stays under 2,048 characters with two cache scopes of the longest names (63-character bucket, 39-character owner, 100-character repository, 255-byte branches; a pull request\'s two read scopes, a push\'s read and write)', () => {
    const bucket = `arn:aws:s3:::${'k'.repeat(63)}`;
    const branch = (c: string) => `${c}/`.repeat(127) + c;
    const repository = `${'o'.repeat(39)}/${'r'.repeat(100)}`;
    const pullRequest = cacheScopeFor({ repository, event: 'pull_request', branch: branch('h'), baseBranch: branch('m'), fromFork: false });
    const push = cacheScopeFor({ repository, event: 'push', branch: branch('w'), fromFork: false });
    for (const cacheScope of [pullRequest, push]) {
      const grant = stageGrant({ buildId: 'b'.repeat(80), stage: { name: 's'.repeat(64), secrets: {}, cache: { paths: ['~/.npm'], keyFiles: [], prefix: 'npm' } }, secretsWithheld: false, now: 0, lifetimeSeconds: 60, cacheScope });
      expect(JSON.stringify(stageSessionPolicy(bucket, grant)).length).toBeLessThan(MAX_SESSION_POLICY_CHARACTERS);
    }
  });

  it('a branch called a..b still makes a literal prefix (no parent step)', () => {
    const grant = stageGrant({ buildId: 'b', stage: { name: 's', secrets: {}, cache: { paths: ['x'], keyFiles: [], prefix: 'p' } }, secretsWithheld: false, now: 0, lifetimeSeconds: 60, cacheScope: cacheScopeFor({ repository: 'o/r', event: 'push', branch: 'a..b', fromFork: false }) });
    expect(() => stageSessionPolicy(BUCKET, grant)).not.toThrow();
  });

  it('a stage without a cache gets no cache statement even when the build has a cache scope', () => {
    const grant = stageGrant({ buildId: 'b', stage: { name: 's', secrets: {} }, secretsWithheld: false, now: 0, lifetimeSeconds: 60, cacheScope: cacheScopeFor({ repository: 'o/r', event: 'push', branch: 'main', fromFork: false }) });
    expect(JSON.stringify(stageSessionPolicy(BUCKET, grant))).not.toContain('caches/');
  });

  it('refuses a prefix with an IAM wildcard, a parent step or no trailing slash (UnsafeGrantPrefix)', () => {
    for (const writePrefix of ['builds/b/stages/*/', 'builds/b/stages/a?/', 'builds/b/../c/', 'builds/b/./c/', 'builds/b/stages/x']) {
      expect(() => stageSessionPolicy(BUCKET, { readPrefix: 'builds/b/', writePrefix })).toThrow(expect.objectContaining({ name: 'UnsafeGrantPrefix' }));
    }
  });

  it('accepts every stage name lint accepts, dots inside a name included (a stage "v1..2")', () => {
    const policy = stageSessionPolicy(BUCKET, { readPrefix: 'builds/b/', writePrefix: 'builds/b/stages/v1..2/' });
    expect(JSON.stringify(policy)).toContain('builds/b/stages/v1..2/');
  });
});

describe('Function: roleSessionName', () => {
  it('keeps to 64 characters of [\\w+=,.@-]', () => {
    const name = roleSessionName(`owner_repo-${'x'.repeat(80)}`, 'build:all');
    expect(name).toMatch(/^[\w+=,.@-]{2,64}$/);
    expect(roleSessionName('b1', 'a b')).toBe('bf.b1.a-b');
  });
});

describe('Function: sessionDurationSeconds', () => {
  it('asks for what the grant has left, within 900..3,600 s (the role-chaining cap)', () => {
    expect(sessionDurationSeconds(10_000_000, 0)).toBe(3600);
    expect(sessionDurationSeconds(1_000_000, 0)).toBe(1000);
    expect(sessionDurationSeconds(60_000, 0)).toBe(900);
  });
});

describe('Function: stageBudgetSeconds', () => {
  it('gives a Lambda stage the whole function timeout before its Fargate escalation', () => {
    expect(stageBudgetSeconds({ runner: 'lambda', timeoutSeconds: 600 })).toBe(1500);
    expect(stageBudgetSeconds({ runner: 'fargate', timeoutSeconds: 7200 })).toBe(7200);
    // A Spot stage interrupted late reruns its whole timeout on on-demand Fargate.
    expect(stageBudgetSeconds({ runner: 'fargate', timeoutSeconds: 7200, fargate: { spot: true } })).toBe(14_400);
  });
});

describe('Function: isSystemSecretArn', () => {
  const full = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:buildfarm-system/github-token-Xy12Z9';
  it('matches the full ARN, and a partial parameter ARN against the full one Secrets Manager answers with', () => {
    expect(isSystemSecretArn(full, [full])).toBe(true);
    expect(isSystemSecretArn(full, [full.slice(0, -7)])).toBe(true);
    expect(isSystemSecretArn(full.replace('github-token', 'github-token-2'), [full.slice(0, -7)])).toBe(false);
    expect(isSystemSecretArn(full, [''])).toBe(false);
  });
});
