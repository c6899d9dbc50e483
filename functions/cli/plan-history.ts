/**
 * The stage history `buildfarm plan` plans with: what `buildfarm run` and `buildfarm serve`
 * recorded in the local data directory, read the way the Plan task reads it (by each stage's
 * definition hash: handlers/stage-history-loader.ts), through the same S3 adapter over the
 * directory's embedded S3. Without history, predictions come from the timeouts and there is no
 * right-sizing: the plan says which it was, so an empty right-sizing block is not a mystery.
 *
 * Read only: nothing is written, and a missing data directory is not created.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { S3HistoryStore } from '../adapters/s3-history-store.js';
import { startEmbeddedS3 } from '../adapters/local/embedded-s3.js';
import type { StageSpec } from '../domain/pipeline/types.js';
import type { StageHistory } from '../domain/plan/types.js';
import { loadStageHistory } from '../handlers/stage-history-loader.js';
import { DEFAULT_DATA_DIRECTORY, OLD_DEFAULT_DATA_DIRECTORY } from '../local/data-directory.js';

export interface PlanHistory {
  history: Record<string, StageHistory>;
  /** One line for the user: where the history came from, or why there is none. */
  note: string;
}

async function isDirectory(where: string): Promise<boolean> {
  return (await stat(where).catch(() => undefined))?.isDirectory() === true;
}

/** `--data-dir` as given, else ./buildfarm-data, else the old ./.buildfarm (not moved: plan only reads). */
async function dataDirectoryOf(named: string | undefined, cwd: string): Promise<string> {
  if (named !== undefined) return path.resolve(cwd, named);
  const current = path.resolve(cwd, DEFAULT_DATA_DIRECTORY);
  const old = path.resolve(cwd, OLD_DEFAULT_DATA_DIRECTORY);
  return !(await isDirectory(current)) && (await isDirectory(old)) ? old : current;
}

/**
 * The default repository name: `local/<folder of the pipeline file>`, as `buildfarm run` names
 * a build of that folder (cli/run-source.ts).
 */
export function localRepositoryOf(pipelineFile: string, cwd: string): string {
  const folder = path.basename(path.dirname(path.resolve(cwd, pipelineFile)));
  return `local/${folder.replace(/[^A-Za-z0-9_.-]/g, '-')}`;
}

export async function loadPlanHistory(options: { dataDir?: string; cwd: string; repository: string; stages: readonly StageSpec[] }): Promise<PlanHistory> {
  const directory = await dataDirectoryOf(options.dataDir, options.cwd);
  const relative = path.relative(options.cwd, directory);
  const shown = relative === '' ? '.' : relative.startsWith('..') || path.isAbsolute(relative) ? directory : relative;
  const s3Directory = path.join(directory, 's3');
  if (!(await isDirectory(s3Directory))) {
    return {
      history: {},
      note: `history: none (no data directory at ${shown}; buildfarm run and serve record stage history there, --data-dir names another): predictions from the timeouts, no right-sizing`,
    };
  }
  const s3 = await startEmbeddedS3(s3Directory);
  let history: Record<string, StageHistory>;
  try {
    history = await loadStageHistory(new S3HistoryStore(s3.store), options.repository, options.stages);
  } finally {
    await s3.close();
  }
  const found = Object.keys(history).length;
  const total = options.stages.length;
  if (found === 0) {
    return {
      history,
      note: `history: none for ${options.repository} in ${shown} (no build recorded these stages as they are defined now; --repo names the repository): predictions from the timeouts, no right-sizing`,
    };
  }
  return { history, note: `history: ${found} of ${total} stage${total === 1 ? '' : 's'} from ${options.repository}'s builds in ${shown}` };
}
