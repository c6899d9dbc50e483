import { describe, expect, it } from 'vitest';
import { isAllowed, parseAllowlist } from '../../../functions/domain/webhook/allowlist.js';

describe('Function: parseAllowlist', () => {
  it('reads entries separated by commas and whitespace', () => {
    // Act
    const allowlist = parseAllowlist(' acme/*, octo-org/hello.world\nme/repo_1 ');

    // Assess
    expect(allowlist).toEqual(['acme/*', 'octo-org/hello.world', 'me/repo_1']);
  });

  it('treats an absent or blank setting as no allowlist', () => {
    // Assess
    expect(parseAllowlist(undefined)).toEqual([]);
    expect(parseAllowlist(' , ')).toEqual([]);
  });

  it.each(['*', 'acme', '*/*', 'acme/*/x', '../etc', 'acme/..', 'acme/.', 'acme/', 'ac.me/x', 'acme/$(id)'])(
    'rejects %j with a message naming it',
    (entry) => {
      // Assess
      expect(() => parseAllowlist(`ok/*, ${entry}`)).toThrow(
        expect.objectContaining({ name: 'InvalidAllowlist', message: expect.stringContaining(JSON.stringify(entry)) }),
      );
    },
  );
});

describe('Function: isAllowed', () => {
  it('allows every repository when the allowlist is empty', () => {
    // Assess
    expect(isAllowed('anyone/anything', [])).toBe(true);
    expect(isAllowed('anyone/anything', undefined)).toBe(true);
  });

  it('allows every repository of an owner listed as owner/*', () => {
    // Assess
    expect(isAllowed('acme/api', ['acme/*'])).toBe(true);
    expect(isAllowed('acme-evil/api', ['acme/*'])).toBe(false);
  });

  it('allows only the named repository for owner/name', () => {
    // Assess
    expect(isAllowed('acme/api', ['acme/api'])).toBe(true);
    expect(isAllowed('acme/api2', ['acme/api'])).toBe(false);
    expect(isAllowed('other/api', ['acme/api'])).toBe(false);
  });

  it('matches case-insensitively, as GitHub names do', () => {
    // Assess
    expect(isAllowed('ACME/Api', ['acme/api'])).toBe(true);
    expect(isAllowed('Acme/x', ['ACME/*'])).toBe(true);
  });
});
