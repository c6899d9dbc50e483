/** examples/hello-farm as a git repository of its own (one commit), as a user's repository would be. */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { makeGitRepo, type TempRepo } from '../git-repo.js';

export const HELLO_FARM = new URL('../../../examples/hello-farm/', import.meta.url).pathname;

async function filesUnder(root: string, directory = root): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) Object.assign(files, await filesUnder(root, path));
    else files[relative(root, path)] = await readFile(path, 'utf8');
  }
  return files;
}

/** A repository holding `root`'s files, with `changes` applied (path → content). */
export async function exampleRepo(root = HELLO_FARM, changes: Record<string, string> = {}): Promise<TempRepo> {
  return makeGitRepo({ ...(await filesUnder(root)), ...changes });
}
