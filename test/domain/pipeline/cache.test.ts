import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PipelineInvalid, type PipelineIssue } from '../../../functions/domain/errors.js';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { planPipeline } from '../../../functions/domain/plan/planner.js';
import { cacheScopeFor } from '../../../functions/domain/cache/scope.js';
import { DEFAULT_PRICE_BOOK } from '../../../functions/domain/pricing/price-book.js';

function issues(text: string): string[] {
  try {
    parsePipeline(text);
  } catch (error) {
    if (error instanceof PipelineInvalid) return error.issues.map((i: PipelineIssue) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
    throw error;
  }
  return [];
}

describe('Function: parsePipeline (cache)', () => {
  it('reads the issue\'s syntax on a stage', () => {
    const pipeline = parsePipeline('version: 1\nstages:\n  install:\n    commands: [npm ci]\n    cache:\n      paths: [~/.npm]\n      key:\n        files: [package-lock.json]\n        prefix: npm\n');
    expect(pipeline.stages[0]!.cache).toEqual({ paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' });
  });

  it('inherits the defaults cache; a stage\'s own cache replaces it; the prefix defaults to "cache"', () => {
    const pipeline = parsePipeline('version: 1\ndefaults:\n  cache:\n    paths: [~/.npm]\nstages:\n  a:\n    commands: [x]\n  b:\n    commands: [x]\n    cache:\n      paths: [.gradle/caches]\n');
    expect(pipeline.stages[0]!.cache).toEqual({ paths: ['~/.npm'], keyFiles: [], prefix: 'cache' });
    expect(pipeline.stages[1]!.cache).toEqual({ paths: ['.gradle/caches'], keyFiles: [], prefix: 'cache' });
  });

  it('names file, line and field for schema errors: missing paths, unknown keys, wrong types', () => {
    expect(issues('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      key: {prefix: npm}\n')).toEqual([
      '6:7 stages.a.cache: missing "paths"; list what to keep between builds, such as ~/.npm',
    ]);
    expect(issues('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      paths: [~/.npm]\n      key:\n        file: [package-lock.json]\n')).toEqual([
      '8:9 stages.a.cache.key.file: unknown key "file" (did you mean "files"?); allowed keys: files, prefix',
    ]);
    expect(issues('version: 1\nstages:\n  a:\n    commands: [x]\n    cache: ~/.npm\n')).toEqual([
      '5:12 stages.a.cache: expected a mapping of paths and key, got "~/.npm"',
    ]);
    expect(issues('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      paths: []\n')).toEqual(['6:14 stages.a.cache.paths: must list at least one path']);
  });

  it('refuses the whole HOME, as a path or a glob, and negated globs', () => {
    const why = "; cache paths are ~/... (the stage's HOME) or relative to the workspace, files, directories or globs, such as ~/.npm, .gradle/caches or packages/*/node_modules";
    expect(issues('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      paths: ["~", "~/*", "~/**/cache", "!~/.npm/_logs", "~/.cache/../.ssh/*"]\n')).toEqual([
      `6:15 stages.a.cache.paths[0]: "~" is the whole HOME; name the directories to keep${why}`,
      `6:20 stages.a.cache.paths[1]: "~/*" is a glob over the whole HOME; start it with a directory, such as ~/.cache/*/wheels${why}`,
      `6:27 stages.a.cache.paths[2]: "~/**/cache" is a glob over the whole HOME; start it with a directory, such as ~/.cache/*/wheels${why}`,
      `6:41 stages.a.cache.paths[3]: "!~/.npm/_logs" is a negated glob; cache paths only name what to keep${why}`,
      `6:58 stages.a.cache.paths[4]: "~/.cache/../.ssh/*" leaves the workspace or HOME (it contains "..")${why}`,
    ]);
  });

  it('accepts globs in HOME and in the workspace (files, directories or globs, as artifacts)', () => {
    const pipeline = parsePipeline('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      paths: ["~/.cache/*/wheels", "~/{.npm,.yarn}", "packages/*/node_modules", "**/.turbo"]\n');
    expect(pipeline.stages[0]!.cache!.paths).toEqual(['~/.cache/*/wheels', '~/{.npm,.yarn}', 'packages/*/node_modules', '**/.turbo']);
  });

  it('the docs\' complete example caches ~/.npm for every stage and passes no node_modules around', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../../docs/pipeline-file.md'), 'utf8');
    const example = /```yaml\n(# \.buildfarm\.yml: a complete example[\s\S]*?)```/.exec(doc)![1]!;
    const pipeline = parsePipeline(example);
    for (const stage of pipeline.stages) {
      expect(stage.cache).toEqual({ paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' });
      expect(stage.artifacts.some((glob) => glob.includes('node_modules'))).toBe(false);
    }
  });

  it('the plan carries each stage\'s cache and the build\'s scope', () => {
    const pipeline = parsePipeline('version: 1\nstages:\n  a:\n    commands: [x]\n    cache:\n      paths: [~/.npm]\n  b:\n    commands: [x]\n');
    const cacheScope = cacheScopeFor({ repository: 'o/r', event: 'push', branch: 'main', fromFork: false });
    const plan = planPipeline(pipeline, { event: 'push', branch: 'main', cacheScope }, { region: 'us-east-1', lambdaEphemeralStorageMB: 512 }, { prices: DEFAULT_PRICE_BOOK });
    expect(plan.cacheScope).toEqual(cacheScope);
    expect(plan.stages.find((s) => s.name === 'a')!.cache).toBeDefined();
    expect(plan.stages.find((s) => s.name === 'b')!.cache).toBeUndefined();
  });
});
