/**
 * A finished build's objects as plain files: `buildfarm run` copies everything the build left in
 * the embedded S3 (its `builds/ID/` folder: logs, artifacts, results, manifests, plan, report,
 * snapshot; each stage's artifact archive unpacked into `stages/STAGE/artifacts/`) to `DATA/builds/ID/`, beside the build's record `DATA/builds/ID.json`, so a user can
 * open `DATA/builds/ID/stages/STAGE/log.txt` without knowing s3rver's own layout. BuildStore.remove
 * (retention) deletes the folder with the record.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildPrefix } from '../domain/storage-keys.js';
import type { ArtifactManifest } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { unpackArchive } from '../runner/archive/index.js';

/** The folder of a build's plain files in the build store's directory. */
export function buildFilesDirectory(buildsDirectory: string, buildId: string): string {
  return join(buildsDirectory, buildId);
}

/** Copies the build's objects; returns the folder and how many files it wrote. */
export async function exportBuildFiles(store: ArtifactStore, buildId: string, buildsDirectory: string): Promise<{ directory: string; files: number }> {
  const prefix = buildPrefix(buildId);
  const directory = resolve(buildFilesDirectory(buildsDirectory, buildId));
  let files = 0;
  for await (const object of store.list(prefix)) {
    if (object.key.endsWith(`/${ARCHIVE_NAME}`)) {
      // A stage's artifacts, stored as one archive: unpacked into the stage's `artifacts/` folder.
      files += await unpackStageArtifacts(store, object.key, resolve(directory, dirname(object.key.slice(prefix.length)), 'artifacts'));
      continue;
    }
    const target = resolve(directory, object.key.slice(prefix.length));
    // Keys come from the farm's own writers, which refuse unsafe artifact paths; checked again here.
    const inside = relative(directory, target);
    if (inside === '' || inside.startsWith(`..${sep}`) || inside === '..' || object.key.endsWith('/')) continue;
    const body = await store.get(object.key);
    if (body === undefined) continue;
    await mkdir(dirname(target), { recursive: true });
    await pipeline(body, createWriteStream(target));
    files += 1;
  }
  return { directory, files };
}

const ARCHIVE_NAME = 'artifacts.tar';

/** Unpacks a stage's archive (checked against its manifest, through the same safe extraction as a stage's download). */
async function unpackStageArtifacts(store: ArtifactStore, archiveKey: string, target: string): Promise<number> {
  const manifestText = await store.getText(archiveKey.replace(new RegExp(`${ARCHIVE_NAME}$`), 'manifest.json'));
  const archive = manifestText ? (JSON.parse(manifestText) as ArtifactManifest).archive : null;
  const body = archive ? await store.get(archiveKey) : undefined;
  if (!archive || body === undefined) return 0;
  await mkdir(target, { recursive: true });
  await unpackArchive(body, target, { sha256: archive.sha256, bytes: archive.bytes, compression: archive.compression, maxBytes: Number.MAX_SAFE_INTEGER, name: archiveKey });
  return (JSON.parse(manifestText!) as ArtifactManifest).artifacts.length;
}
