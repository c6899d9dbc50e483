/**
 * A cache's `paths` under one root (HOME or the workspace) resolved to the root-relative
 * paths to pack: a plain path stays as written (a missing one is skipped when packing); a
 * glob (picomatch, dotfiles included, as artifacts' globs) becomes every file, link or
 * directory it matches, a matched directory meaning everything under it.
 *
 * The walk behaves as artifacts' (runner/artifacts.ts): symbolic links are matched as links
 * and never followed, so a glob cannot reach outside the root through one, and whether a
 * matched link stays inside is checked when it is packed (archive/archive-entries.ts refuses
 * one that leaves, and the save is skipped with a warning). The walk starts at the glob's
 * literal base (`.cache` for `.cache/*\/wheels`), stops descending where a directory matched,
 * and goes no deeper than a pattern without `**` can match.
 */
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import picomatch from 'picomatch';

const GLOB_OPTIONS = { dot: true };

/** True when the path is a glob rather than a plain path. */
export function isCacheGlob(path: string): boolean {
  return picomatch.scan(path).isGlob;
}

/** The root-relative paths `patterns` name under `root`, each once, in the patterns' order. */
export async function resolveCachePaths(root: string, patterns: readonly string[]): Promise<string[]> {
  const found: string[] = [];
  const seen = new Set<string>();
  const add = (path: string) => {
    if (!seen.has(path)) {
      seen.add(path);
      found.push(path);
    }
  };
  for (const pattern of patterns) {
    const clean = pattern.replace(/\/+$/, '');
    if (!isCacheGlob(clean)) {
      add(clean);
      continue;
    }
    for (const path of await matchGlob(root, clean)) add(path);
  }
  return found;
}

async function matchGlob(root: string, pattern: string): Promise<string[]> {
  const { base } = picomatch.scan(pattern);
  // Lint refuses `..` and absolute paths in a cache's paths; the runner does not rely on it
  // (picomatch.scan('../*').base is '..', and the walk would list the root's siblings).
  if (!isSafeBase(base)) return [];
  const matches = picomatch(pattern, GLOB_OPTIONS);
  // Without `**`, a match is never deeper than the pattern's own segments.
  const maxDepth = pattern.includes('**') ? Infinity : pattern.split('/').length;
  // The base must be a real directory reached without links (a link is never followed: see above).
  if (base !== '' && !(await isPlainDirectoryPath(root, base))) return [];
  const found: string[] = [];
  const walk = async (relative: string, depth: number): Promise<void> => {
    const entries: Dirent[] = await readdir(join(root, relative), { withFileTypes: true }).catch(() => []);
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const path = relative === '' ? entry.name : `${relative}/${entry.name}`;
      if (matches(path)) {
        found.push(path);
        continue; // a matched directory is kept whole
      }
      if (entry.isDirectory() && depth + 1 < maxDepth) await walk(path, depth + 1);
    }
  };
  await walk(base, base === '' ? 0 : base.split('/').length);
  return found;
}

/** A glob's literal base that stays under the root: empty, or relative with no `..` segment. */
function isSafeBase(base: string): boolean {
  if (base === '') return true;
  if (isAbsolute(base) || base.includes('\\')) return false;
  return !base.split('/').includes('..');
}

/** Every segment of `relative` under `root` is a directory, not a link. */
async function isPlainDirectoryPath(root: string, relative: string): Promise<boolean> {
  let path = root;
  for (const segment of relative.split('/')) {
    path = join(path, segment);
    const stats = await lstat(path).catch(() => undefined);
    if (!stats?.isDirectory()) return false;
  }
  return true;
}
