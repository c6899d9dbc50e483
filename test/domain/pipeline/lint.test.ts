import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineInvalid, type PipelineIssue } from '../../../functions/domain/errors.js';
import { LINT_RULES, lintPipeline } from '../../../functions/domain/pipeline/lint.js';
import { parsePipeline, readPipeline } from '../../../functions/domain/pipeline/parse.js';

/**
 * One YAML file per rule in test/fixtures/lint, drone-style: the file ends
 * with `# expect: line:column path: message` comments listing every issue the
 * file must produce, in position order, and nothing else.
 */
const FIXTURES = join(import.meta.dirname, '../../fixtures/lint');
const fixtureNames = readdirSync(FIXTURES).filter((name) => name.endsWith('.yml')).sort();

function loadFixture(name: string): { text: string; expected: string[] } {
  const text = readFileSync(join(FIXTURES, name), 'utf8');
  const expected = text
    .split('\n')
    .filter((line) => line.startsWith('# expect: '))
    .map((line) => line.slice('# expect: '.length));
  return { text, expected };
}

function issuesOf(text: string, file: string): PipelineIssue[] {
  try {
    parsePipeline(text, file);
  } catch (error) {
    if (error instanceof PipelineInvalid) return error.issues;
    throw error;
  }
  return [];
}

const short = (issue: PipelineIssue) => `${issue.line}:${issue.column} ${issue.path ? `${issue.path}: ` : ''}${issue.message}`;

describe('Function: lintPipeline (fixtures)', () => {
  it('has a fixture for every lint rule', () => {
    // Prepare
    const missing = LINT_RULES.map((rule) => `${rule.id}.yml`).filter((name) => !fixtureNames.includes(name));

    // Assess
    expect(missing).toEqual([]);
  });

  it.each(fixtureNames)('%s reports exactly its expected issues', (name) => {
    // Prepare
    const { text, expected } = loadFixture(name);

    // Act
    const issues = issuesOf(text, name);

    // Assess
    expect(expected.length).toBeGreaterThan(0);
    expect(issues.map(short)).toEqual(expected);
    for (const issue of issues) expect(issue.file).toBe(name);
  });

  it.each(LINT_RULES.map((rule) => rule.id))('rule %s itself reports the problem in its fixture, which passes the schema', (id) => {
    // Prepare: the rule's fixture, read by the schema pass only
    const rule = LINT_RULES.find((candidate) => candidate.id === id)!;
    const { text } = loadFixture(`${id}.yml`);
    const reading = readPipeline(text, `${id}.yml`);

    // Act
    const own = rule.check(reading.pipeline!, reading.sites!);

    // Assess: the rule itself produces the fixture's issues
    expect(own.length).toBeGreaterThan(0);
    expect(reading.issues).toEqual([]);
  });
});

describe('Function: lintPipeline', () => {
  it('accepts a valid pipeline without issues', () => {
    // Prepare
    const reading = readPipeline(
      [
        'version: 1',
        'stages:',
        '  build: { commands: [make], artifacts: [dist/**] }',
        '  test: { commands: [make test], needs: build, runner: lambda, timeout: 14m }',
        '  deploy: { commands: [make deploy], needs: [build, test], spot: true, resources: { memory: 120GiB, cpu: 16, disk: 200GiB } }',
      ].join('\n'),
    );

    // Act
    const issues = lintPipeline(reading.pipeline!, reading.sites!);

    // Assess
    expect(reading.issues).toEqual([]);
    expect(issues).toEqual([]);
  });

  it('reports a value inherited from defaults once, at the defaults line', () => {
    // Prepare
    const text = ['version: 1', 'defaults:', '  resources: { disk: 300GiB }', 'stages:', '  a: { commands: [x] }', '  b: { commands: [x] }'].join('\n');

    // Act
    const issues = issuesOf(text, 'p.yml');

    // Assess
    expect(issues.map(short)).toEqual(['3:22 defaults.resources.disk: "300GiB" is above the largest Fargate ephemeral storage (200 GiB)']);
  });

  it('reports every lambda conflict of one stage, each with its own reason', () => {
    // Prepare
    const text = ['version: 1', 'stages:', '  t:', '    runner: lambda', '    image: node:22', '    timeout: 1h', '    commands: [x]'].join('\n');

    // Act
    const messages = issuesOf(text, 'p.yml').map((issue) => issue.message);

    // Assess
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain('custom images need Fargate');
    expect(messages[1]).toContain("Lambda's hard limit of 900 s less 60 s");
  });
});
