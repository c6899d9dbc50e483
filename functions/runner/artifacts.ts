/**
 * A stage's artifacts: its globs resolved inside the workspace only, each
 * file streamed to S3 (lib-storage, bounded memory) while its sha256 is
 * computed, and the manifest of what was stored.
 */
import { createReadStream } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import picomatch from 'picomatch';
import type { ArtifactEntry } from '../domain/report/types.js';
import { artifactKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { safeSegments } from './artifact-path.js';
import { ArtifactUploadFailed, UnsafeArtifactPath } from './errors.js';
import { isInside } from './extract-snapshot.js';
import { MeasuringStream } from './measuring-stream.js';

export interface FoundArtifacts {
  /** Workspace-relative `/` paths, sorted. */
  files: string[];
  /** Globs that matched nothing (worth a warning, not a failure). */
  unmatched: string[];
}

/**
 * Resolves the globs. A glob may name a file, a directory (everything under
 * it) or a picomatch pattern; `!pattern` excludes. `..`, absolute paths and
 * files whose real path leaves the workspace are UnsafeArtifactPath.
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

  const realWorkspace = await realpath(workspace);
  const safe: string[] = [];
  for (const path of files) {
    const real = await realpath(join(workspace, ...path.split('/'))).catch(() => undefined);
    if (real === undefined || !isInside(realWorkspace, real)) {
      throw new UnsafeArtifactPath(`artifact "${path}" is a link that leaves the workspace (or leads nowhere)`);
    }
    // A link to a directory inside the workspace adds nothing: its files are matched where they really are.
    if ((await stat(real)).isFile()) safe.push(path);
  }
  return {
    files: safe.sort(),
    unmatched: includes.filter((pattern) => !matchedBy.has(pattern)),
  };
}

/** Uploads each file under the stage's artifact prefix, one at a time; returns the manifest entries. */
export async function uploadArtifacts(
  workspace: string,
  files: string[],
  target: { buildId: string; stage: string },
  store: ArtifactStore,
): Promise<ArtifactEntry[]> {
  const entries: ArtifactEntry[] = [];
  for (const path of files) {
    const measure = new MeasuringStream();
    const source = createReadStream(join(workspace, ...path.split('/')));
    source.on('error', (error) => measure.destroy(error));
    const key = artifactKey(target.buildId, target.stage, path);
    try {
      // The SDK retries each request (and lib-storage each part); an error here is final.
      await store.put(key, source.pipe(measure), 'application/octet-stream');
    } catch (error) {
      source.destroy();
      throw new ArtifactUploadFailed(`could not upload ${path} to ${key}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    entries.push({ path, size: measure.bytes, sha256: measure.sha256() });
  }
  return entries;
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

