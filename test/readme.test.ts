import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain ESM script without type declarations
import { assemble } from '../scripts/assemble-readme.mjs';

describe('README', () => {
  it('is assembled from docs/ (run node scripts/assemble-readme.mjs after editing a page)', () => {
    expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toBe((assemble as () => string)());
  });
});
