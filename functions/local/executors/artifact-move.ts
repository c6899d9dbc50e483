/**
 * Moves a finished stage's artifacts out of its workspace (rename, no copy), for `buildfarm run`'s
 * export of the build's plain files: on this machine's ext4 each inode made costs about 260 µs
 * and a rename about 12 µs, so unpacking node_modules' 3,772 files once more after the build took
 * over a second where moving them takes milliseconds (docs/performance.md).
 *
 * The workspace was the stage's to write, so it is treated as hostile. Nothing is moved unless
 * EVERY entry of the manifest (what went into the stored archive) is found exactly as listed:
 * - a regular file with the listed size and permission bits (no set-id or sticky bit), one link
 *   only (a hard link would share the inode with a name the export does not own) and our owner;
 * - a symbolic link whose text is the listed target (the packer's lexically normalised one),
 *   which still resolves inside the workspace;
 * - every folder on the way a real folder (not a link) of our owner, on the workspace's device.
 * Any mismatch (a FIFO, device or link planted where a file was listed, a file grown or
 * shrunk, a path missing) or surprise answers `moved: false` with the reason, having moved
 * nothing, and the caller unpacks the stored archive instead, as before. Entries the manifest
 * does not list stay behind: a folder whose content is exactly the manifest's moves whole, any
 * other is made anew and only its listed entries move into it.
 *
 * The files keep their inode, so the export gets what unpacking gives (runner/archive/
 * safe-extract.ts) only where permissions are set the same way: a file's mode becomes
 * `(listed | 0o600) & ~umask` and a folder's the default (`0o777 & ~umask`).
 *
 * The CALLER must know no process of the stage can still write (docs/local-farm.md: only when the
 * stage's commands ran in bubblewrap, whose PID namespace dies with its first process); the checks
 * here are against what a stage left, not against a writer racing them.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readlinkSync, realpathSync, renameSync, rmSync, type Stats } from 'node:fs';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { join } from 'node:path';
import type { ArtifactEntry } from '../../domain/report/types.js';
import { isInside } from '../../runner/archive/safe-extract.js';
import { safeSegments } from '../../runner/artifact-path.js';

export type ArtifactMoveOutcome = { moved: true; entries: number } | { moved: false; reason: string };

/** A folder of the manifest's tree: the entries and folders it lists under it. */
interface Folder {
  folders: Map<string, Folder>;
  entries: Map<string, ArtifactEntry>;
  /** Filled by the check: the folder holds exactly what is listed, so it may move whole. */
  whole?: boolean;
}

class Mismatch extends Error {}

/**
 * Moves the manifest's `entries` from `workspace` into `destination` (which must not exist; its
 * parent must, on the same file system). On `moved: false` nothing was moved and `destination`
 * does not exist.
 */
export async function moveArtifacts(workspace: string, entries: readonly ArtifactEntry[], destination: string): Promise<ArtifactMoveOutcome> {
  let tree: Folder;
  try {
    tree = manifestTree(entries);
    const root = lstatSync(workspace);
    if (!root.isDirectory()) throw new Mismatch('the workspace is not a folder');
    const check = { workspace, realWorkspace: realpathSync.native(workspace), device: root.dev, owner: root.uid, changes: [] as Array<{ path: string; mode: number; actual: number }> };
    await checkFolder(check, tree, workspace, '');
    // The destination's own mode shows the default a new folder gets here (umask applied), as unpacking makes them.
    mkdirSync(destination);
    const folderMode = lstatSync(destination).mode & 0o7777;
    const fileMode = (listed: number) => (listed | 0o600) & folderMode;
    const moving = { workspace, destination, folderMode, fileMode };
    try {
      for (const change of check.changes) if (fileMode(change.mode) !== change.actual) chmodSync(change.path, fileMode(change.mode));
      await moveFolder(moving, tree, '');
    } catch (error) {
      // What moved so far goes with the destination; the workspace is thrown away after the stage anyway.
      rmSync(destination, { recursive: true, force: true });
      throw error;
    }
  } catch (error) {
    if (error instanceof Mismatch) return { moved: false, reason: error.message };
    return { moved: false, reason: `${(error as NodeJS.ErrnoException).code ?? 'error'}: ${(error as Error).message}` };
  }
  return { moved: true, entries: entries.length };
}

function manifestTree(entries: readonly ArtifactEntry[]): Folder {
  const root: Folder = { folders: new Map(), entries: new Map() };
  for (const entry of entries) {
    const segments = safeSegments(entry.path);
    if (segments === undefined || segments.join('/') !== entry.path) throw new Mismatch(`the manifest lists an unsafe path "${entry.path}"`);
    let folder = root;
    for (const segment of segments.slice(0, -1)) {
      if (folder.entries.has(segment)) throw new Mismatch(`the manifest lists "${entry.path}" under a file`);
      let next = folder.folders.get(segment);
      if (next === undefined) folder.folders.set(segment, (next = { folders: new Map(), entries: new Map() }));
      folder = next;
    }
    const name = segments[segments.length - 1];
    if (folder.entries.has(name) || folder.folders.has(name)) throw new Mismatch(`the manifest lists "${entry.path}" twice`);
    folder.entries.set(name, entry);
  }
  return root;
}

interface CheckContext {
  workspace: string;
  realWorkspace: string;
  device: number;
  owner: number;
  /** Each file: its absolute path, listed mode and actual mode (set as unpacking sets it where they differ). */
  changes: Array<{ path: string; mode: number; actual: number }>;
}

async function checkFolder(context: CheckContext, folder: Folder, absolute: string, path: string): Promise<void> {
  // Synchronous calls, a folder at a time with a turn of the event loop between: thousands of calls
  // queued at once on libuv's thread pool would hold up the farm's own I/O (the next stage's) behind them.
  await nextTurn();
  const names = readdirSync(absolute);
  const present = new Set(names);
  // Anything not listed (an empty folder, a FIFO the packer skipped, a file outside the globs) keeps the folder from moving whole.
  let whole = names.every((name) => folder.entries.has(name) || folder.folders.has(name));
  const [subfolders, entries] = [[...folder.folders], [...folder.entries]];
  const stats = [...subfolders, ...entries].map(([name]) => (present.has(name) ? lstatSync(join(absolute, name)) : undefined));
  for (const [index, [name, subfolder]] of subfolders.entries()) {
    const child = path === '' ? name : `${path}/${name}`;
    const found = stats[index];
    if (found === undefined || !found.isDirectory()) throw new Mismatch(`"${child}" is not a folder in the workspace`);
    ownedHere(context, found, child);
    await checkFolder(context, subfolder, join(absolute, name), child);
    whole &&= subfolder.whole === true;
  }
  for (const [index, [name, entry]] of entries.entries()) {
    const found = stats[subfolders.length + index];
    if (found === undefined) throw new Mismatch(`"${entry.path}" is missing from the workspace`);
    checkEntry(context, entry, join(absolute, name), found);
  }
  folder.whole = whole;
}

function realOrUndefined(path: string): string | undefined {
  try {
    // The kernel's answer (realpath(3)): the JavaScript realpathSync resolves `..` lexically before following links.
    return realpathSync.native(path);
  } catch {
    return undefined;
  }
}

function ownedHere(context: CheckContext, stats: Stats, path: string): void {
  if (stats.uid !== context.owner) throw new Mismatch(`"${path}" has another owner (${stats.uid})`);
  if (stats.dev !== context.device) throw new Mismatch(`"${path}" is on another file system`);
}

function checkEntry(context: CheckContext, entry: ArtifactEntry, absolute: string, stats: Stats): void {
  ownedHere(context, stats, entry.path);
  if (entry.type === 'symlink') {
    if (!stats.isSymbolicLink()) throw new Mismatch(`"${entry.path}" was listed as a link and is not one`);
    const text = readlinkSync(absolute);
    if (text !== entry.target) throw new Mismatch(`link "${entry.path}" points to "${text}", listed "${entry.target}"`);
    // Each link lexically inside can still leave through another (`a -> .`, `b -> a/..`): its real path decides, as unpacking checks.
    const real = realOrUndefined(absolute);
    if (real !== undefined && !isInside(context.realWorkspace, real)) throw new Mismatch(`link "${entry.path}" resolves outside the workspace`);
    return;
  }
  if (!stats.isFile()) throw new Mismatch(`"${entry.path}" was listed as a file and is not a regular file`);
  if (stats.nlink !== 1) throw new Mismatch(`"${entry.path}" has ${stats.nlink} hard links`);
  if (stats.size !== entry.size) throw new Mismatch(`"${entry.path}" has ${stats.size} bytes, listed ${entry.size}`);
  if (entry.mode === undefined || (stats.mode & 0o7777) !== entry.mode) {
    throw new Mismatch(`"${entry.path}" has mode ${(stats.mode & 0o7777).toString(8)}, listed ${entry.mode?.toString(8) ?? 'none'}`);
  }
  context.changes.push({ path: absolute, mode: entry.mode, actual: stats.mode & 0o7777 });
}

interface MoveContext {
  workspace: string;
  destination: string;
  folderMode: number;
  fileMode(listed: number): number;
}

/** Moves a checked folder's listed content: whole sub-folders by one rename each, the rest entry by entry. */
async function moveFolder(context: MoveContext, folder: Folder, path: string): Promise<void> {
  await nextTurn();
  for (const [name, subfolder] of folder.folders) {
    const child = path === '' ? name : `${path}/${name}`;
    if (subfolder.whole) {
      renameSync(join(context.workspace, child), join(context.destination, child));
      setFolderModes(context, subfolder, join(context.destination, child));
    } else {
      mkdirSync(join(context.destination, child));
      await moveFolder(context, subfolder, child);
    }
  }
  for (const name of folder.entries.keys()) {
    const child = path === '' ? name : `${path}/${name}`;
    renameSync(join(context.workspace, child), join(context.destination, child));
  }
}

/** A folder that moved whole keeps the stage's mode: set it, and its sub-folders', as a new folder's. */
function setFolderModes(context: MoveContext, folder: Folder, absolute: string): void {
  chmodSync(absolute, context.folderMode);
  for (const [name, subfolder] of folder.folders) setFolderModes(context, subfolder, join(absolute, name));
}
