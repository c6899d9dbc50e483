import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EXECUTION_NAME_PATTERN, executionName, executionNamePrefix } from '../../../functions/domain/webhook/execution-name.js';

const HOSTILE_REPOSITORIES = [
  'owner/name; rm -rf /',
  '../../etc/passwd',
  'ünïcødé/répo',
  '💥/🔥',
  'a'.repeat(500) + '/' + 'b'.repeat(500),
  '',
  '/',
  '-/-',
  'owner/$(curl evil.example)',
  'owner/name\nX-Injected: 1',
  'owner/name with spaces',
  'ow`ner`/na"me\'',
];
const HOSTILE_DELIVERIES = ['', ' ', '../..', 'x'.repeat(1000), '72d3162e-cc78-11e3-81ab-4c9367dc0958', '\u0000\u0001', 'a:b:c', '💥'];

describe('Function: executionName', () => {
  it('reads as repository, delivery id and a hash', () => {
    // Act
    const name = executionName('72d3162e-cc78-11e3-81ab-4c9367dc0958', 'Codertocat/Hello-World');

    // Assess
    expect(name).toMatch(/^Codertocat_Hello-World-72d3162e-cc78-11e3-81ab-4c9367dc0958-[0-9a-f]{16}$/);
  });

  it.each(HOSTILE_REPOSITORIES.flatMap((repository) => HOSTILE_DELIVERIES.map((delivery) => [repository, delivery])))(
    'is a valid execution name for repository %j and delivery %j',
    (repository, delivery) => {
      // Act
      const name = executionName(delivery, repository);

      // Assess
      expect(name).toMatch(EXECUTION_NAME_PATTERN);
      expect(name.length).toBeLessThanOrEqual(80);
    },
  );

  it('is always 1 to 80 characters of 0-9A-Za-z-_ (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 }), (delivery, repository) => {
        expect(executionName(delivery, repository)).toMatch(EXECUTION_NAME_PATTERN);
      }),
    );
  });

  it('gives the same name for the same delivery, every time (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (delivery, repository) => {
        expect(executionName(delivery, repository)).toBe(executionName(`${delivery}`, `${repository}`));
      }),
    );
  });

  it('gives different names to deliveries whose readable parts sanitize alike', () => {
    // Prepare: these all sanitize to the same prefix.
    const names = ['a/b!', 'a/b?', 'a/b#', 'a.b', 'a b'].map((repository) => executionName('same-delivery', repository));
    const truncated = ['x'.repeat(60) + '1', 'x'.repeat(60) + '2'].map((delivery) => executionName(delivery, 'o/r'));

    // Assess
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(truncated).size).toBe(2);
  });

  it('gives distinct names to distinct inputs (property)', () => {
    fc.assert(
      fc.property(fc.tuple(fc.string(), fc.string()), fc.tuple(fc.string(), fc.string()), ([d1, r1], [d2, r2]) => {
        fc.pre(d1 !== d2 || r1 !== r2);
        expect(executionName(d1, r1)).not.toBe(executionName(d2, r2));
      }),
    );
  });

  it('starts with the repository\'s prefix (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (delivery, repository) => {
        expect(executionName(delivery, repository).startsWith(executionNamePrefix(repository))).toBe(true);
      }),
    );
  });
});
