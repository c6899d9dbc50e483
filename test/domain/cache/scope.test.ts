import { describe, expect, it } from 'vitest';
import { cacheScopeFor } from '../../../functions/domain/cache/scope.js';

describe('Function: cacheScopeFor', () => {
  it('a push to main reads and writes main', () => {
    expect(cacheScopeFor({ repository: 'o/r', event: 'push', branch: 'main', fromFork: false })).toEqual({ repository: 'o/r', read: ['main'], write: 'main' });
  });

  it('a pull request from a branch of the repository reads its head branch, then its base, and writes nothing', () => {
    const scope = cacheScopeFor({ repository: 'o/r', event: 'pull_request', branch: 'feature/x', baseBranch: 'main', fromFork: false });
    expect(scope).toEqual({ repository: 'o/r', read: ['feature/x', 'main'] });
    expect(scope.write).toBeUndefined();
  });

  it('a pull request from a fork reads only its base branch (its head branch names another repository\'s branch) and writes nothing', () => {
    const scope = cacheScopeFor({ repository: 'o/r', event: 'pull_request', branch: 'main', baseBranch: 'release', fromFork: true });
    expect(scope).toEqual({ repository: 'o/r', read: ['release'] });
  });

  it('a build marked as from a fork never writes, even as a push', () => {
    expect(cacheScopeFor({ repository: 'o/r', event: 'push', branch: 'main', fromFork: true }).write).toBeUndefined();
  });

  it('a pull request whose head and base are the same branch reads it once', () => {
    expect(cacheScopeFor({ repository: 'o/r', event: 'pull_request', branch: 'main', baseBranch: 'main', fromFork: false }).read).toEqual(['main']);
  });
});
