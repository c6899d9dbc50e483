import { describe, expect, it } from 'vitest';
import { matchesCondition, matchesTriggers, type TriggerRequest } from '../../../functions/domain/pipeline/triggers.js';
import type { Triggers } from '../../../functions/domain/pipeline/types.js';

const push = (branch: string, extra: Partial<TriggerRequest> = {}): TriggerRequest => ({ event: 'push', branch, message: 'change', ...extra });
const pullRequest = (head: string, base: string, extra: Partial<TriggerRequest> = {}): TriggerRequest => ({
  event: 'pull_request',
  branch: head,
  baseBranch: base,
  message: 'change',
  ...extra,
});
const ALL: Triggers = { push: {}, pull_request: {} };

describe('Function: matchesTriggers', () => {
  it('builds every push and pull request under the default triggers', () => {
    expect(matchesTriggers(ALL, push('feature/x'))).toEqual({ build: true, reason: 'push to branch "feature/x" matches on.push' });
    expect(matchesTriggers(ALL, pullRequest('feature/x', 'main')).build).toBe(true);
  });

  it('skips an event the file does not list', () => {
    expect(matchesTriggers({ push: {} }, pullRequest('f', 'main'))).toEqual({
      build: false,
      reason: 'the pipeline file\'s "on" does not list pull_request',
    });
  });

  it.each(['fix: typo [skip ci]', 'chore [ci skip]', 'Docs [SKIP CI]', 'wip [no ci]'])('skips a commit whose message says %j', (message) => {
    // Act
    const decision = matchesTriggers(ALL, push('main', { message }));

    // Assess
    expect(decision.build).toBe(false);
    expect(decision.reason).toMatch(/^the commit message contains \[(skip ci|ci skip|no ci)\]$/);
  });

  it('filters pushes on the pushed branch, where * stays inside one segment and ** crosses "/"', () => {
    // Prepare
    const on: Triggers = { push: { branches: ['main', 'release/*', 'hotfix/**'] } };

    // Act
    const results = ['main', 'release/1.2', 'release/1.2/rc', 'hotfix/a/b', 'feature'].map((branch) => matchesTriggers(on, push(branch)).build);

    // Assess
    expect(results).toEqual([true, true, false, true, false]);
  });

  it('filters pull requests on the BASE branch, not the head branch (GitHub Actions semantics)', () => {
    // Prepare
    const on: Triggers = { pull_request: { branches: ['main'] } };

    // Act
    const intoMain = matchesTriggers(on, pullRequest('feature/x', 'main'));
    const fromMain = matchesTriggers(on, pullRequest('main', 'develop'));

    // Assess
    expect(intoMain).toEqual({ build: true, reason: 'pull_request to base branch "main" matches on.pull_request' });
    expect(fromMain).toEqual({ build: false, reason: 'base branch "develop" matches none of on.pull_request.branches' });
  });

  it('skips branches matching branches-ignore', () => {
    expect(matchesTriggers({ push: { branchesIgnore: ['wip/**'] } }, push('wip/me/x'))).toEqual({
      build: false,
      reason: 'branch "wip/me/x" matches on.push.branches-ignore',
    });
    expect(matchesTriggers({ push: { branchesIgnore: ['wip/**'] } }, push('main')).build).toBe(true);
  });

  it('applies "!" patterns in order, as GitHub does', () => {
    // Prepare
    const on: Triggers = { push: { branches: ['release/**', '!release/**-alpha', 'release/keep-alpha'] } };

    // Act
    const results = ['release/1.0', 'release/1.0-alpha', 'release/keep-alpha'].map((branch) => matchesTriggers(on, push(branch)).build);

    // Assess
    expect(results).toEqual([true, false, true]);
  });

  it('builds when any changed file matches paths, and skips when none does', () => {
    // Prepare
    const on: Triggers = { push: { paths: ['src/**', 'package.json'] } };

    // Act
    const touched = matchesTriggers(on, push('main', { changedFiles: ['README.md', 'src/a/b.ts'] }));
    const untouched = matchesTriggers(on, push('main', { changedFiles: ['README.md', 'docs/x.md'] }));

    // Assess
    expect(touched.build).toBe(true);
    expect(untouched).toEqual({ build: false, reason: 'no changed file matches on.push.paths' });
  });

  it('skips only when every changed file matches paths-ignore, including dot files', () => {
    // Prepare
    const on: Triggers = { push: { pathsIgnore: ['docs/**', '**/*.md', '.github/**'] } };

    // Act
    const onlyDocs = matchesTriggers(on, push('main', { changedFiles: ['docs/a.md', 'README.md', '.github/CODEOWNERS'] }));
    const withCode = matchesTriggers(on, push('main', { changedFiles: ['docs/a.md', 'src/x.ts'] }));

    // Assess
    expect(onlyDocs).toEqual({ build: false, reason: 'every changed file matches on.push.paths-ignore' });
    expect(withCode.build).toBe(true);
  });

  it('ignores path filters when the changed files are unknown or empty', () => {
    // Prepare
    const on: Triggers = { push: { paths: ['src/**'] } };

    // Act and Assess
    expect(matchesTriggers(on, push('main')).build).toBe(true);
    expect(matchesTriggers(on, push('main', { changedFiles: [] })).build).toBe(true);
  });

  it('checks branch filters before path filters', () => {
    // Prepare
    const on: Triggers = { push: { branches: ['main'], paths: ['src/**'] } };

    // Act
    const decision = matchesTriggers(on, push('dev', { changedFiles: ['src/a.ts'] }));

    // Assess
    expect(decision).toEqual({ build: false, reason: 'branch "dev" matches none of on.push.branches' });
  });
});

describe('Function: matchesCondition', () => {
  it('holds when a stage has no condition', () => {
    expect(matchesCondition(undefined, { event: 'pull_request', branch: 'x' })).toBe(true);
  });

  it('requires the event to be listed', () => {
    expect(matchesCondition({ events: ['push'] }, { event: 'push', branch: 'main' })).toBe(true);
    expect(matchesCondition({ events: ['push'] }, { event: 'pull_request', branch: 'main' })).toBe(false);
  });

  it('requires the branch to match a glob', () => {
    expect(matchesCondition({ branches: ['main', 'release/*'] }, { event: 'push', branch: 'release/2' })).toBe(true);
    expect(matchesCondition({ branches: ['main', 'release/*'] }, { event: 'push', branch: 'feature/2' })).toBe(false);
  });

  it('requires every listed field to match', () => {
    const deployOnMain = { events: ['push' as const], branches: ['main'] };
    expect(matchesCondition(deployOnMain, { event: 'push', branch: 'main' })).toBe(true);
    expect(matchesCondition(deployOnMain, { event: 'pull_request', branch: 'main' })).toBe(false);
    expect(matchesCondition(deployOnMain, { event: 'push', branch: 'dev' })).toBe(false);
  });

  it('matches nothing with an empty list', () => {
    expect(matchesCondition({ events: [] }, { event: 'push', branch: 'main' })).toBe(false);
    expect(matchesCondition({ branches: [] }, { event: 'push', branch: 'main' })).toBe(false);
  });

  it('uses the base branch of a pull request when given, like the triggers', () => {
    expect(matchesCondition({ branches: ['main'] }, { event: 'pull_request', branch: 'feature/x', baseBranch: 'main' })).toBe(true);
    expect(matchesCondition({ branches: ['main'] }, { event: 'pull_request', branch: 'feature/x' })).toBe(false);
  });
});
