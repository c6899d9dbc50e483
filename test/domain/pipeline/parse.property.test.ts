import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { PipelineInvalid } from '../../../functions/domain/errors.js';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';

/** Whatever a user (or an attacker) commits, parse answers with a pipeline or with located issues, never a crash. */
function outcome(text: string): 'valid' | 'invalid' {
  try {
    parsePipeline(text, 'fuzz.yml');
    return 'valid';
  } catch (error) {
    if (!(error instanceof PipelineInvalid)) throw error;
    expect(error.issues.length).toBeGreaterThan(0);
    for (const issue of error.issues) {
      expect(issue.file).toBe('fuzz.yml');
      expect(issue.line).toBeGreaterThanOrEqual(1);
      expect(issue.column).toBeGreaterThanOrEqual(1);
      expect(issue.message.length).toBeGreaterThan(0);
    }
    return 'invalid';
  }
}

const stageKeys = ['commands', 'needs', 'runner', 'image', 'resources', 'timeout', 'env', 'secrets', 'artifacts', 'spot', 'architecture', 'if', 'run-as-root', 'log-limit', 'comands'];
const values = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom('cpu', 'memory', 'disk', 'event', 'branch', 'A', '1B'), fc.oneof(fc.string(), fc.integer(), fc.constantFrom('2GiB', '90s'))),
);

describe('Function: parsePipeline (properties)', () => {
  it('answers arbitrary text with a pipeline or located issues', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (text) => void outcome(text)), { numRuns: 500 });
  });

  it('answers arbitrary pipeline-shaped documents with a pipeline or located issues', () => {
    const stage = fc.dictionary(fc.constantFrom(...stageKeys), values, { maxKeys: 6 });
    const document = fc.record({
      version: fc.oneof(fc.constant(1), values),
      stages: fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), stage, { maxKeys: 4 }),
      defaults: fc.dictionary(fc.constantFrom('image', 'resources', 'timeout', 'env', 'runner', 'spot'), values, { maxKeys: 3 }),
    });
    fc.assert(fc.property(document, (doc) => void outcome(stringify(doc))), { numRuns: 500 });
  });
});
