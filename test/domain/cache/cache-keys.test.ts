import { describe, expect, it } from 'vitest';
import { cacheKey, cacheLabel } from '../../../functions/domain/cache/cache-key.js';
import { branchCachePrefix, cacheEntryKey, cacheSegment, MAX_SEGMENT_CHARACTERS } from '../../../functions/domain/cache/cache-keys.js';
import { chooseRestore, type ScopeListing } from '../../../functions/domain/cache/restore-choice.js';
import { cacheFamilyPrefix } from '../../../functions/domain/cache/cache-keys.js';

const LOCK = 'a'.repeat(64);

describe('Function: cacheKey', () => {
  it('is the prefix plus a hash of the key files\' contents, stable for the same inputs', () => {
    const one = cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: LOCK }]);
    const two = cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: LOCK }]);
    expect(one).toEqual(two);
    expect(one.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(one.label).toBe(cacheLabel('npm', one.hash));
    expect(one.label).toMatch(/^npm-[0-9a-f]{12}$/);
  });

  it('changes when a key file changes, appears or disappears, and when the paths change', () => {
    const base = cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: LOCK }]).hash;
    expect(cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: 'b'.repeat(64) }]).hash).not.toBe(base);
    expect(cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: null }]).hash).not.toBe(base);
    expect(cacheKey({ paths: ['~/.npm', 'node_modules'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: LOCK }]).hash).not.toBe(base);
  });
});

describe('Function: cacheSegment', () => {
  it('keeps plain names and escapes every other byte, so a branch is one key segment', () => {
    expect(cacheSegment('main')).toBe('main');
    expect(cacheSegment('feature/x')).toBe('feature!2fx');
    expect(cacheSegment('release-1.2_b')).toBe('release-1.2_b');
    expect(cacheSegment('.hidden')).toBe('!2ehidden');
    expect(cacheSegment('a*b?c$')).toBe('a!2ab!3fc!24');
    expect(cacheSegment('!2f')).toBe('!212f');
    expect(cacheSegment('é')).toBe('!c3!a9');
  });

  it('keeps `feature` and `feature/x` apart: neither scope is a prefix of the other', () => {
    const a = branchCachePrefix('o/r', 'feature');
    const b = branchCachePrefix('o/r', 'feature/x');
    expect(b.startsWith(a)).toBe(false);
    expect(a.startsWith(b)).toBe(false);
  });

  it('bounds long names, still told apart by a hash', () => {
    const long = 'x/'.repeat(200);
    const segment = cacheSegment(long);
    expect(segment.length).toBeLessThanOrEqual(MAX_SEGMENT_CHARACTERS);
    expect(segment).toMatch(/!![0-9a-f]{16}$/);
    expect(cacheSegment(`${long}y`)).not.toBe(segment);
  });

  it('lays entries out as caches/{owner}/{repo}/{branch}/{prefix}/{hash}.json', () => {
    expect(cacheEntryKey('octo/app', 'main', 'npm', LOCK)).toBe(`caches/octo/app/main/npm/${LOCK}.json`);
  });
});

describe('Function: chooseRestore', () => {
  const key = cacheKey({ paths: ['~/.npm'], prefix: 'npm' }, [{ path: 'package-lock.json', sha256: LOCK }]);
  const listing = (branch: string, entries: { hash: string; at: number; size?: number }[]): ScopeListing => {
    const familyPrefix = cacheFamilyPrefix('o/r', branch, 'npm');
    return { branch, familyPrefix, entries: entries.map((e) => ({ key: `${familyPrefix}${e.hash}.json`, size: e.size ?? 10, lastModified: new Date(e.at) })) };
  };

  it('an exact key in the own scope is a hit', () => {
    const choice = chooseRestore(key, [listing('feature', [{ hash: 'c'.repeat(64), at: 5 }, { hash: key.hash, at: 1 }]), listing('main', [])]);
    expect(choice).toMatchObject({ result: 'hit', branch: 'feature', hash: key.hash });
  });

  it('no exact key: the newest entry with the same prefix is a fallback, own scope before the base', () => {
    const choice = chooseRestore(key, [listing('feature', [{ hash: 'c'.repeat(64), at: 1 }, { hash: 'd'.repeat(64), at: 9 }]), listing('main', [{ hash: key.hash, at: 3 }])]);
    expect(choice).toMatchObject({ result: 'fallback', branch: 'feature', hash: 'd'.repeat(64) });
  });

  it('an empty own scope goes on to the base branch', () => {
    expect(chooseRestore(key, [listing('feature', []), listing('main', [{ hash: key.hash, at: 3 }])])).toMatchObject({ result: 'hit', branch: 'main' });
  });

  it('nothing under the prefix is a miss; objects that are not entries are ignored', () => {
    const familyPrefix = cacheFamilyPrefix('o/r', 'main', 'npm');
    expect(chooseRestore(key, [{ branch: 'main', familyPrefix, entries: [{ key: `${familyPrefix}notes.txt`, size: 1 }, { key: `${familyPrefix}x/${LOCK}.json`, size: 1 }] }])).toEqual({ result: 'miss' });
  });
});
