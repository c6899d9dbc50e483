import { describe, expect, it } from 'vitest';
import { findMapping, mergeMappings, parseRepositoryFlag } from '../../functions/local/repositories.js';

describe('Function: parseRepositoryFlag', () => {
  it('reads OWNER/NAME=PATH with the path resolved against the working directory', () => {
    // Act
    const mapping = parseRepositoryFlag('octo-org/api=../api', '/home/me/farm');
    // Assess
    expect(mapping).toEqual({ repository: 'octo-org/api', path: '/home/me/api' });
  });

  it.each(['octo-org/api', '=../api', 'api=../api', 'octo-org/api=', 'a/b/c=../x'])('rejects "%s" with the expected form', (text) => {
    // Act and assess
    expect(() => parseRepositoryFlag(text, '/tmp')).toThrow(/is not OWNER\/NAME=PATH/);
  });
});

describe('Function: mergeMappings', () => {
  it('keeps the last mapping of a repository, whatever the case of its name', () => {
    // Act
    const merged = mergeMappings([
      { repository: 'Octo-Org/API', path: '/a' },
      { repository: 'octo-org/web', path: '/w' },
      { repository: 'octo-org/api', path: '/b' },
    ]);
    // Assess
    expect(merged).toEqual([{ repository: 'octo-org/api', path: '/b' }, { repository: 'octo-org/web', path: '/w' }]);
    expect(findMapping(merged, 'OCTO-ORG/WEB')?.path).toBe('/w');
  });
});
