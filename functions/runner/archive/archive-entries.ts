/**
 * What goes into an archive: the named paths under a root (a directory named
 * brings everything under it), each with its type, permission bits and size,
 * checked BEFORE anything streams so a hostile link fails the stage early.
 *
 * Symbolic links are kept as links when they stay inside the root (their text
 * lexically resolved, and their real path, when they lead somewhere, inside the
 * real root); a link that leaves it is UnsafeArtifactPath naming the link.
 * A link that leads nowhere but stays inside is kept (tar does the same; the
 * extracting side checks every link again). Links to directories are not
 * followed. Sockets, FIFOs and devices are left out. Paths that do not exist
 * are skipped (a cache directory a stage never created is simply not saved).
 */
import { lstat, readdir, readlink, realpath } from 'node:fs/promises';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import type { Stats } from 'node:fs';
import { safeSegments } from '../artifact-path.js';
import { UnsafeArtifactPath } from '../errors.js';
import { isInside } from './safe-extract.js';

export type ArchiveEntryType = 'file' | 'symlink' | 'directory';

export interface ArchiveEntry {
  /** Relative to the root, `/`-separated. */
  path: string;
  type: ArchiveEntryType;
  /** Permission bits (0o777 at most: set-id and sticky bits are never carried). */
  mode: number;
  /** Bytes of a file; 0 for links and directories. */
  size: number;
  /** A link's target, relative to the link's directory. */
  target?: string;
}

/**
 * The entries for `paths` (root-relative, `/`-separated; a directory means all of it),
 * in a stable order, each path once.
 */
export async function listArchiveEntries(
  root: string,
  paths: string[],
  options: { rootLabel?: string } = {},
): Promise<ArchiveEntry[]> {
  const lexicalRoot = resolve(root);
  const realRoot = await realpath(lexicalRoot);
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [];
  const label = options.rootLabel ?? 'the workspace';
  const context = { lexicalRoot, realRoot, seen, entries, label };
  const named = paths.map((path) => {
    const segments = safeSegments(path);
    if (segments === undefined) throw new UnsafeArtifactPath(`artifact path "${path}" is not inside ${label} (relative, without ..)`);
    return { path, segments, absolute: join(lexicalRoot, ...segments) };
  });
  // A stage's artifacts are often thousands of files named one by one (findArtifacts): their
  // lstat calls go LOOKAHEAD at a time through the thread pool, and each directory's real path
  // is resolved once, not once per file in it (issue 12: a system call's round trip each).
  const realParents = new Map<string, Promise<string>>();
  const realParentOf = (directory: string) => {
    let real = realParents.get(directory);
    if (real === undefined) realParents.set(directory, (real = realpath(directory)));
    return real;
  };
  const look = (index: number) => {
    const { absolute } = named[index]!;
    const stats = lstat(absolute).catch(() => undefined);
    stats.catch(() => undefined);
    return stats;
  };
  const pending = named.slice(0, LOOKAHEAD).map((_, index) => look(index));
  for (const [index, { path, segments, absolute }] of named.entries()) {
    if (index + LOOKAHEAD < named.length) pending.push(look(index + LOOKAHEAD));
    const stats = await pending[index];
    pending[index] = Promise.resolve(undefined);
    if (stats === undefined) continue;
    // The named path must not be reached through a link that leaves the root (`out -> /etc`, then `out/passwd`).
    const realParent = await realParentOf(dirname(absolute));
    if (!isInside(realRoot, realParent)) {
      throw new UnsafeArtifactPath(`artifact "${path}" lies under a link that leaves ${label}`);
    }
    await add(context, segments.join('/'), absolute, stats);
  }
  return entries;
}

/** Named paths whose lstat is in flight at once. */
const LOOKAHEAD = 32;

interface ListContext {
  lexicalRoot: string;
  realRoot: string;
  seen: Set<string>;
  entries: ArchiveEntry[];
  /** How errors name the root ("the workspace", "HOME"). */
  label: string;
}

async function add(context: ListContext, path: string, absolute: string, stats: Stats): Promise<void> {
  if (context.seen.has(path)) return;
  context.seen.add(path);
  const mode = stats.mode & 0o777;
  if (stats.isFile()) {
    context.entries.push({ path, type: 'file', mode, size: stats.size });
  } else if (stats.isSymbolicLink()) {
    context.entries.push({ path, type: 'symlink', mode, size: 0, target: await safeLinkTarget(context, path, absolute) });
  } else if (stats.isDirectory()) {
    context.entries.push({ path, type: 'directory', mode, size: 0 });
    const children = (await readdir(absolute)).sort();
    // The children's lstat calls at once (the thread pool runs them in parallel), then each in order.
    const childStats = await Promise.all(children.map((name) => lstat(join(absolute, name)).catch(() => undefined)));
    for (const [index, name] of children.entries()) {
      const stats = childStats[index];
      if (stats !== undefined) await add(context, posix.join(path, name), join(absolute, name), stats);
    }
  }
  // Sockets, FIFOs, devices: nothing a later stage could use, and nothing to create in a workspace.
}

/** The link's text, made relative and lexically normalised, or UnsafeArtifactPath when it leaves the root. */
async function safeLinkTarget(context: ListContext, path: string, absolute: string): Promise<string> {
  const text = await readlink(absolute);
  const lexical = resolve(dirname(absolute), text);
  if (!isInside(context.lexicalRoot, lexical)) {
    throw new UnsafeArtifactPath(`artifact "${path}" is a link that leaves ${context.label} (to ${text})`);
  }
  const real = await realpath(absolute).catch(() => undefined);
  if (real !== undefined && !isInside(context.realRoot, real)) {
    throw new UnsafeArtifactPath(`artifact "${path}" is a link that leaves ${context.label} (through ${text})`);
  }
  const relativeText = relative(dirname(absolute), lexical);
  return relativeText === '' ? '.' : relativeText.split(sep).join('/');
}
