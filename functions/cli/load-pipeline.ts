import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../domain/errors.js';
import { parsePipelineWithSites } from '../domain/pipeline/parse.js';
import type { SourceLocation } from '../domain/errors.js';
import type { Pipeline } from '../domain/pipeline/types.js';

export const DEFAULT_PIPELINE_FILE = '.buildfarm.yml';

/** Reads and parses (with lint) a pipeline file; errors name the file as the user wrote it. */
export interface LoadedPipeline {
  pipeline: Pipeline;
  file: string;
  /** Where a field path is in the file, for errors found after parsing (the planner's). */
  locate: (path: string) => SourceLocation | undefined;
}

/** FILE as given; a directory stands for the pipeline file in it (`validate .`, `plan ../api`). */
async function pipelineFileOf(file: string | undefined, cwd: string): Promise<string> {
  if (file === undefined) return DEFAULT_PIPELINE_FILE;
  const info = await stat(path.resolve(cwd, file)).catch(() => undefined);
  return info?.isDirectory() ? path.join(file, DEFAULT_PIPELINE_FILE) : file;
}

export async function loadPipelineFile(file: string | undefined, cwd: string): Promise<LoadedPipeline> {
  const shown = await pipelineFileOf(file, cwd);
  let text: string;
  try {
    text = await readFile(path.resolve(cwd, shown), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${shown}: no such file (write one from the README's pipeline file reference)`);
    throw new UserError(`${shown}: cannot read it (${code ?? String(err)})`);
  }
  const { pipeline, sites } = parsePipelineWithSites(text, shown);
  return { pipeline, file: shown, locate: (p) => sites.locate(p) };
}
