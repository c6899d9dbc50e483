/**
 * Where the local farm keeps its data, and where stages work.
 *
 * The default is `buildfarm-data/` in the current directory: not a hidden folder, because real
 * test suites refuse paths with a dot segment (express's `res.sendFile` tests, through `send`'s
 * dotfiles rule, fail by the dozen under `.buildfarm/`), and a stage's workspace lives inside the
 * data directory. The old default, `.buildfarm/`, is still read: when only it exists, it is moved
 * to `buildfarm-data/` (one rename), unless a `buildfarm serve` is running on it, which then keeps
 * it as it is. A data directory the user names is used as named; if its path has a dot segment,
 * the stages work under the OS temporary directory instead.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { servingProcess } from './data-directory-lock.js';

export const DEFAULT_DATA_DIRECTORY = 'buildfarm-data';
export const OLD_DEFAULT_DATA_DIRECTORY = '.buildfarm';

export interface DataDirectory {
  path: string;
  /** Said once to the user: the old default was moved, or kept because a farm serves it. */
  note?: string;
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() === true;
}

/** The data directory for `--data-dir` (undefined: the default, migrating the old one). Creates it. */
export async function openDataDirectory(named: string | undefined, cwd: string): Promise<DataDirectory> {
  if (named !== undefined) return { path: await prepare(resolve(cwd, named)) };
  const current = resolve(cwd, DEFAULT_DATA_DIRECTORY);
  const old = resolve(cwd, OLD_DEFAULT_DATA_DIRECTORY);
  if ((await isDirectory(current)) || !(await isDirectory(old))) return { path: await prepare(current) };
  const serving = await servingProcess(old);
  if (serving !== undefined) {
    return { path: old, note: `using ${OLD_DEFAULT_DATA_DIRECTORY}/ (the old default) as buildfarm serve (pid ${serving}) runs on it; stop it and the next command moves it to ${DEFAULT_DATA_DIRECTORY}/` };
  }
  await rename(old, current);
  return { path: await prepare(current), note: `moved ${OLD_DEFAULT_DATA_DIRECTORY}/ to ${DEFAULT_DATA_DIRECTORY}/ (the new default data directory: not hidden, so stages' workspaces are not under a dot folder)` };
}

/**
 * Creates the directory with a `.gitignore` of `*` in it, so git (status, `run --working-tree`,
 * a stray `git add .`) never takes the farm's data for the repository's files.
 */
async function prepare(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, '.gitignore'), '# buildfarm local farm data (builds, logs, artifacts, S3 objects)\n*\n', { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return path;
}

/** True when a segment of the absolute path starts with a dot (`/home/u/.cache/x`). */
export function hasDotSegment(path: string): boolean {
  return resolve(path).split(sep).some((segment) => segment.startsWith('.') && segment !== '.');
}

/**
 * Where stages' workspaces, homes and temporary folders go: `DIR/work`, or, when DIR's path has a
 * dot segment, a folder of the OS temporary directory named after DIR (so every command on the
 * same DIR finds the same one: `buildfarm gc` cleans it).
 */
export function workRootFor(dataDirectory: string, temporary = tmpdir()): string {
  const absolute = resolve(dataDirectory);
  if (!hasDotSegment(absolute)) return join(absolute, 'work');
  const id = createHash('sha256').update(absolute).digest('hex').slice(0, 12);
  return join(temporary, `buildfarm-work-${id}`);
}
