/**
 * A stage's artifacts: its globs resolved inside the workspace, then every file and
 * link they name streamed to S3 as ONE archive (runner/archive: modes and in-workspace
 * links kept, links out refused), measured on the way; the manifest records what
 * went in and the archive's digest.
 */
import { readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import type { ArtifactEntry, ArtifactManifest } from '../domain/report/types.js';
import { artifactArchiveKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { listArchiveEntries, packArchive, type ArchiveEntry } from './archive/index.js';
import { safeSegments } from './artifact-path.js';
import { ArtifactUploadFailed, StageFailure, UnsafeArtifactPath } from './errors.js';

export interface FoundArtifacts {
  /** Workspace-relative `/` paths of files and symbolic links, sorted. */
  files: string[];
  /** Globs that matched nothing (worth a warning, not a failure). */
  unmatched: string[];
}

/**
 * Resolves the globs. A glob may name a file, a directory (everything under
 * it) or a picomatch pattern; `!pattern` excludes. `..` and absolute paths are
 * UnsafeArtifactPath. Links are listed as links (never followed into directories);
 * whether they stay inside the workspace is checked when they are packed.
 */
export async function findArtifacts(workspace: string, globs: string[]): Promise<FoundArtifacts> {
  const includes: string[] = [];
  const excludes: string[] = [];
  for (const glob of globs) {
    const negated = glob.startsWith('!');
    const pattern = (negated ? glob.slice(1) : glob).replace(/\/+$/, '');
    if (safeSegments(pattern) === undefined) {
      throw new UnsafeArtifactPath(`artifact path "${glob}" is not inside the workspace (relative, without ..)`);
    }
    (negated ? excludes : includes).push(pattern);
  }
  if (includes.length === 0) return { files: [], unmatched: [] };

  const options = { dot: true };
  const includeMatchers = includes.map((pattern) => ({ pattern, match: picomatch(pattern, options) }));
  const isExcluded = excludes.length > 0 ? picomatch(excludes, options) : () => false;
  const matchedBy = new Set<string>();
  const files: string[] = [];

  for await (const path of walk(workspace, '')) {
    // A file counts when it or one of its parent directories matches (so `dist` means all of dist/).
    const candidates = ancestorsAndSelf(path);
    const hit = includeMatchers.find((matcher) => candidates.some((candidate) => matcher.match(candidate)));
    if (hit === undefined || candidates.some((candidate) => isExcluded(candidate))) continue;
    matchedBy.add(hit.pattern);
    files.push(path);
  }
  return {
    files: files.sort(),
    unmatched: includes.filter((pattern) => !matchedBy.has(pattern)),
  };
}

/**
 * Stores `files` (from findArtifacts) as the stage's archive; returns the manifest to
 * store beside it. Nothing is uploaded when there are no files. A link that leaves the
 * workspace fails before any byte goes up (UnsafeArtifactPath, naming it).
 */
export async function uploadArtifacts(
  workspace: string,
  files: string[],
  target: { buildId: string; stage: string },
  store: ArtifactStore,
): Promise<ArtifactManifest> {
  if (files.length === 0) return { version: 2, archive: null, artifacts: [] };
  const entries = await listArchiveEntries(workspace, files);
  const key = artifactArchiveKey(target.buildId, target.stage);
  const { stream, packed } = packArchive(workspace, entries);
  try {
    // The SDK retries each request, each part included; an error here is final.
    await store.put(key, stream, 'application/x-tar');
  } catch (error) {
    stream.destroy();
    // A file that changed under the packer is the stage's doing, not the store's.
    const packError = await packed.then(() => undefined, (failure: unknown) => failure);
    if (packError instanceof StageFailure) throw packError;
    throw new ArtifactUploadFailed(`could not upload the artifacts to ${key}: ${(error as Error).message}`, { cause: error });
  }
  const archive = await packed;
  return { version: 2, archive: { key, ...archive }, artifacts: entries.map(manifestEntry) };
}

/** The files and links (no directory entries: findArtifacts lists none). */
function manifestEntry(entry: ArchiveEntry): ArtifactEntry {
  if (entry.type === 'symlink') return { path: entry.path, size: 0, mode: entry.mode, type: 'symlink', target: entry.target };
  return { path: entry.path, size: entry.size, mode: entry.mode, type: 'file' };
}

/** Every file and link under `directory` (links to directories are not followed), as `/` paths. */
async function* walk(root: string, relative: string): AsyncGenerator<string> {
  const entries = await readdir(join(root, relative), { withFileTypes: true });
  for (const entry of entries) {
    const path = relative === '' ? entry.name : posix.join(relative, entry.name);
    if (relative === '' && entry.name === '.git') continue;
    if (entry.isDirectory()) yield* walk(root, path);
    else if (entry.isFile() || entry.isSymbolicLink()) yield path;
  }
}

function ancestorsAndSelf(path: string): string[] {
  const segments = path.split('/');
  return segments.map((_, index) => segments.slice(0, index + 1).join('/'));
}
