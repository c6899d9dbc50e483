import { PipelineInvalid, type PipelineIssue } from '../errors.js';
import type { FieldSites } from './field-sites.js';
import { lintPipeline } from './lint.js';
import { loadYaml } from './load-yaml.js';
import { readSchema } from './read-schema.js';
import type { Pipeline } from './types.js';

/**
 * The schema of `.buildfarm.yml` (documented field by field in
 * docs/pipeline-file.md): YAML in, a normalised `Pipeline` out, with every
 * problem reported at its line and column. Checks that need the whole
 * pipeline (needs, cycles, sizes, runner limits) live in lint.ts.
 */

export interface PipelineReading {
  /** Absent only when the file is not readable YAML at all (syntax, size, bombs). */
  pipeline?: Pipeline;
  /** Where every field was written, for lint. */
  sites?: FieldSites;
  /** Schema problems; lint adds its own. */
  issues: PipelineIssue[];
}

/**
 * Parses and lints a pipeline file. Throws `PipelineInvalid` carrying every
 * issue found (schema and lint), sorted by position; its message is the
 * formatted list, meant to be printed without a stack trace.
 */
export function parsePipeline(text: string, file = '.buildfarm.yml'): Pipeline {
  return parsePipelineWithSites(text, file).pipeline;
}

/**
 * `parsePipeline`, also returning where each field was written, so later
 * checks (the planner's) can point at a line: pass
 * `(path) => sites.locate(path)` as the planner's `locate`.
 */
export function parsePipelineWithSites(text: string, file = '.buildfarm.yml'): { pipeline: Pipeline; sites: FieldSites } {
  const reading = readPipeline(text, file);
  const issues = [...reading.issues];
  if (reading.pipeline && reading.sites) issues.push(...lintPipeline(reading.pipeline, reading.sites));
  const unique = dedupe(issues).sort((a, b) => a.line - b.line || a.column - b.column);
  if (unique.length > 0 || !reading.pipeline || !reading.sites) throw new PipelineInvalid(unique);
  return { pipeline: reading.pipeline, sites: reading.sites };
}

/**
 * Schema pass only: builds the best pipeline it can (a bad field falls back
 * to its default) so lint can still run and the user sees every problem at once.
 */
export function readPipeline(text: string, file = '.buildfarm.yml'): PipelineReading {
  const loaded = loadYaml(text, file);
  if (!loaded.ok) return { issues: loaded.issues };
  const reader = loaded.reader;
  const pipeline = readSchema(reader);
  return { pipeline, sites: reader.sites, issues: reader.issues };
}


function dedupe(issues: PipelineIssue[]): PipelineIssue[] {
  const seen = new Set<string>();
  return issues.filter((issue) => {
    const key = `${issue.line}:${issue.column}:${issue.path}:${issue.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
