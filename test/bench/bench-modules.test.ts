/**
 * `npm run bench` is not part of the test suite (speed goals live in the benchmarks), but
 * its modules must keep loading against the farm's code as it changes, and its generated
 * pipeline must stay a valid pipeline file.
 */
import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { syntheticPipeline } from '../../bench/lib/synthetic-pipeline.js';
import { SECTIONS } from '../../bench/main.js';

describe('Module: bench/main.ts', () => {
  it('loads every benchmark section', () => {
    // Prepare, Act: the import above loads every section module.
    // Assess
    expect(SECTIONS).toEqual(['webhook', 'busy-webhook', 'bundle', 'transitions', 'plan', 'chain', 'critical-path', 'overhead', 'upload', 'archive', 'express']);
  });
});

describe('Function: syntheticPipeline', () => {
  it('generates a pipeline file the parser accepts, with a history for every stage', () => {
    // Prepare
    const synthetic = syntheticPipeline(120);

    // Act
    const pipeline = parsePipeline(synthetic.text);

    // Assess
    expect(pipeline.stages).toHaveLength(120);
    expect(Object.keys(synthetic.history).sort()).toEqual(pipeline.stages.map((stage) => stage.name).sort());
    expect(pipeline.stages.some((stage) => stage.needs.length > 0)).toBe(true);
  });
});
