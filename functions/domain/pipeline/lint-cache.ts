import type { PipelineIssue } from '../errors.js';
import type { FieldSites } from './field-sites.js';
import type { Pipeline, StageSpec } from './types.js';

/**
 * Lint rules for `cache:` (read by read-cache.ts). A cache path (or glob) is restored into
 * the stage's HOME (`~/...`) or its workspace, so like artifacts it may not name anything
 * outside them; the prefix becomes an S3 key segment (domain/storage-keys.ts).
 */

/** Key prefixes become one S3 key segment: the same alphabet as stage names. */
export const CACHE_PREFIX_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

interface Rule {
  id: string;
  summary: string;
  check(pipeline: Pipeline, sites: FieldSites): PipelineIssue[];
}

/**
 * Why a cache path is refused, or undefined. `~` and `~/x` are the stage's HOME. Globs are
 * allowed (picomatch, as artifacts' globs: runner/cache/cache-globs.ts resolves them) but not
 * negated, and a HOME glob starts with a named directory, so it never means the whole HOME.
 */
export function cachePathProblem(path: string): string | undefined {
  if (path.trim() === '') return 'is empty';
  if (/^~\/*$/.test(path.trim())) return 'is the whole HOME; name the directories to keep';
  if (path.startsWith('!')) return 'is a negated glob; cache paths only name what to keep';
  if (/^~\/+[*?]*(\/|$)/.test(path) || /^~\/+\*\*/.test(path)) return 'is a glob over the whole HOME; start it with a directory, such as ~/.cache/*/wheels';
  if (/^~[^/]/.test(path)) return 'names another user\'s home (only ~ and ~/... are the stage\'s HOME)';
  if (/^([/\\]|[A-Za-z]:)/.test(path)) return 'is absolute';
  if (path.split(/[/\\]/).includes('..')) return 'leaves the workspace or HOME (it contains "..")';
  return undefined;
}

/** Why a key file is refused, or undefined: key files are read from the workspace. */
export function cacheKeyFileProblem(file: string): string | undefined {
  if (file.trim() === '') return 'is empty';
  if (/^([/\\~]|[A-Za-z]:)/.test(file)) return 'is not relative to the workspace';
  if (file.split(/[/\\]/).includes('..')) return 'leaves the workspace (it contains "..")';
  if (/[*?[\]{}]/.test(file)) return 'is a glob; list the files themselves';
  return undefined;
}

function cached(pipeline: Pipeline): (StageSpec & { cache: NonNullable<StageSpec['cache']> })[] {
  return pipeline.stages.filter((stage): stage is StageSpec & { cache: NonNullable<StageSpec['cache']> } => stage.cache !== undefined);
}

export const CACHE_LINT_RULES: readonly Rule[] = [
  {
    id: 'cache-path',
    summary: 'cache paths and globs stay in HOME or the workspace; key files are workspace files',
    check: (pipeline, sites) =>
      cached(pipeline).flatMap((stage) => [
        ...stage.cache.paths.flatMap((path, index) => {
          const why = cachePathProblem(path);
          return why
            ? [sites.issue(`stages.${stage.name}.cache.paths[${index}]`, `${JSON.stringify(path)} ${why}; cache paths are ~/... (the stage's HOME) or relative to the workspace, files, directories or globs, such as ~/.npm, .gradle/caches or packages/*/node_modules`)]
            : [];
        }),
        ...stage.cache.keyFiles.flatMap((file, index) => {
          const why = cacheKeyFileProblem(file);
          return why
            ? [sites.issue(`stages.${stage.name}.cache.key.files[${index}]`, `${JSON.stringify(file)} ${why}; key files are files of the workspace, such as package-lock.json`)]
            : [];
        }),
      ]),
  },
  {
    id: 'cache-prefix',
    summary: 'a cache key prefix is a short S3-safe name',
    check: (pipeline, sites) =>
      cached(pipeline)
        .filter((stage) => !CACHE_PREFIX_PATTERN.test(stage.cache.prefix))
        .map((stage) =>
          sites.issue(
            `stages.${stage.name}.cache.key.prefix`,
            `cache prefix ${JSON.stringify(stage.cache.prefix)} is not allowed: it becomes part of an S3 key, ` +
              'so it starts with a letter or digit and uses only letters, digits, "_", "." and "-" (at most 64 characters)',
          ),
        ),
  },
];
