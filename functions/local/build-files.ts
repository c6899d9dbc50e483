/**
 * A finished build's objects as plain files: `buildfarm run` copies everything the build left in
 * the embedded S3 (its `builds/ID/` folder: logs, artifacts, results, manifests, plan, report,
 * snapshot; each stage's artifacts into `stages/STAGE/artifacts/`, moved out of its workspace or unpacked) to `DATA/builds/ID/`, beside the build's record `DATA/builds/ID.json`, so a user can
 * open `DATA/builds/ID/stages/STAGE/log.txt` without knowing s3rver's own layout. BuildStore.remove
 * (retention) deletes the folder with the record.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { runBounded } from '../domain/run-bounded.js';
import { buildPrefix } from '../domain/storage-keys.js';
import type { ArtifactManifest } from '../domain/report/types.js';
import type { ArtifactStore, StoredObject } from '../ports/artifact-store.js';
import { unpackArchive } from '../runner/archive/index.js';
import type { StageArtifactHandOver } from './stage-artifact-hand-over.js';

/** The folder of a build's plain files in the build store's directory. */
export function buildFilesDirectory(buildsDirectory: string, buildId: string): string {
  return join(buildsDirectory, buildId);
}

/** Objects copied at once: each is small (logs, records) and waits mostly on s3rver and the disk. */
const COPY_CONCURRENCY = 8;

/** A part of a build's export, for a build exported while it runs (run-handoff/early-export.ts). */
export interface PartialExport {
  /** Only the objects under this folder of the build (`stages/test/`); default: all of them. */
  under?: string;
  /** Key -> ETag of the objects already copied: skipped while their ETag is the same; filled in as copies are made. */
  done: Map<string, string>;
}

/**
 * Copies the build's objects; returns the folder and how many files it wrote. `handOver`: the
 * stages' artifacts already moved out of their workspaces (stage-artifact-hand-over.ts), renamed
 * into place instead of unpacked when they match the stored archive. `part`: see PartialExport.
 */
export async function exportBuildFiles(
  store: ArtifactStore,
  buildId: string,
  buildsDirectory: string,
  { handOver, part }: { handOver?: StageArtifactHandOver; part?: PartialExport } = {},
): Promise<{ directory: string; files: number }> {
  const prefix = buildPrefix(buildId);
  const directory = resolve(buildFilesDirectory(buildsDirectory, buildId));
  let files = 0;
  const copies: Array<() => Promise<void>> = [];
  const copied = (object: StoredObject) => {
    if (object.etag !== undefined) part?.done.set(object.key, object.etag);
  };
  for await (const object of store.list(prefix + (part?.under ?? ''))) {
    const before = part?.done.get(object.key);
    if (before !== undefined && before === object.etag) continue;
    // Keys come from the farm's own writers, which refuse unsafe artifact paths; checked again here
    // (the embedded S3 takes writes from anyone on the loopback with its well-known keys), archives' too.
    if (object.key.endsWith(`/${ARCHIVE_NAME}`)) {
      // A stage's artifacts, stored as one archive: moved or unpacked into the stage's `artifacts/` folder.
      const stageFolder = dirname(object.key.slice(prefix.length));
      const target = resolve(directory, stageFolder, 'artifacts');
      if (!strictlyInside(directory, target)) continue;
      copies.push(async () => {
        // Rewritten since an earlier part of the export unpacked it (a stage run again): unpacked anew.
        if (before !== undefined) await rm(target, { recursive: true, force: true });
        files += await exportStageArtifacts(store, object.key, target, { buildId, stage: basename(stageFolder), handOver });
        copied(object);
      });
      continue;
    }
    const target = resolve(directory, object.key.slice(prefix.length));
    if (!strictlyInside(directory, target) || object.key.endsWith('/')) continue;
    copies.push(async () => {
      const body = await store.get(object.key);
      if (body === undefined) return;
      await mkdir(dirname(target), { recursive: true });
      await pipeline(body, createWriteStream(target));
      files += 1;
      copied(object);
    });
  }
  await runBounded(copies, COPY_CONCURRENCY);
  return { directory, files };
}

/** `target` is below `directory` (not the folder itself, not beside or above it). */
function strictlyInside(directory: string, target: string): boolean {
  const inside = relative(directory, target);
  return inside !== '' && inside !== '..' && !inside.startsWith(`..${sep}`);
}

const ARCHIVE_NAME = 'artifacts.tar';

/**
 * A stage's artifacts: the folder its executor moved them into, renamed into place when it matches
 * the stored archive; otherwise the archive unpacked (checked against its manifest, through the
 * same safe extraction as a stage's download).
 */
async function exportStageArtifacts(
  store: ArtifactStore,
  archiveKey: string,
  target: string,
  from: { buildId: string; stage: string; handOver?: StageArtifactHandOver },
): Promise<number> {
  const manifestText = await store.getText(archiveKey.replace(new RegExp(`${ARCHIVE_NAME}$`), 'manifest.json'));
  const manifest = manifestText ? (JSON.parse(manifestText) as ArtifactManifest) : undefined;
  const archive = manifest?.archive;
  if (!manifest || !archive) return 0;
  await mkdir(dirname(target), { recursive: true });
  const moved = from.handOver?.takeMoved(from.buildId, from.stage, archive.sha256);
  if (moved) {
    try {
      await rename(moved.directory, target);
      return moved.entries;
    } catch {
      // Another file system (a work root in the OS temporary folder) or a folder already there: unpack instead.
      await rm(moved.directory, { recursive: true, force: true });
    }
  }
  const body = await store.get(archiveKey);
  if (body === undefined) return 0;
  await mkdir(target, { recursive: true });
  await unpackArchive(body, target, { sha256: archive.sha256, bytes: archive.bytes, compression: archive.compression, maxBytes: Number.MAX_SAFE_INTEGER, name: archiveKey });
  return manifest.artifacts.length;
}
