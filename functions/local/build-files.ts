/**
 * A finished build's objects as plain files: `buildfarm run` copies everything the build left in
 * the embedded S3 (its `builds/ID/` folder: logs, artifacts, results, manifests, plan, report,
 * snapshot) to `DATA/builds/ID/`, beside the build's record `DATA/builds/ID.json`, so a user can
 * open `DATA/builds/ID/stages/STAGE/log.txt` without knowing s3rver's own layout. BuildStore.remove
 * (retention) deletes the folder with the record.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { buildPrefix } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';

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
