/**
 * Materialises a stage's workspace: the build's source snapshot, then the
 * artifacts of every upstream stage at their workspace paths (as listed in
 * each upstream manifest, checked against its size and sha256).
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { ArtifactEntry } from '../domain/report/types.js';
import { artifactKey, manifestKey, sourceKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { safeSegments } from './artifact-path.js';
import { ArtifactDownloadFailed, OutOfDisk, SnapshotMissing, SnapshotTooLarge } from './errors.js';
import { extractSnapshot } from './extract-snapshot.js';
import type { StageLog } from './stage-log.js';
import { MeasuringStream } from './measuring-stream.js';

export interface WorkspaceRequest {
  buildId: string;
  upstream: string[];
  workspace: string;
  /** Cap on what the snapshot and artifacts may occupy. */
  limitBytes: number;
  /** True when the limit is the runner's disk (then too big is OutOfDisk, which escalates). */
  limitIsDisk: boolean;
}

export async function prepareWorkspace(request: WorkspaceRequest, store: ArtifactStore, log: StageLog): Promise<void> {
  const snapshot = await store.get(sourceKey(request.buildId));
  if (snapshot === undefined) throw new SnapshotMissing(`no source snapshot at ${sourceKey(request.buildId)}`);
  let used: number;
  try {
    const summary = await extractSnapshot(snapshot, request.workspace, {
      stripTopLevel: true,
      maxBytes: request.limitBytes,
    });
    used = summary.bytes;
    log.line(`== source: ${summary.files} files, ${summary.bytes} bytes`);
  } catch (error) {
    throw asDiskError(error, request);
  }

  for (const stage of request.upstream) {
    const text = await store.getText(manifestKey(request.buildId, stage));
    if (text === undefined) {
      throw new ArtifactDownloadFailed(`upstream stage "${stage}" has no manifest at ${manifestKey(request.buildId, stage)}`);
    }
    const entries = JSON.parse(text) as ArtifactEntry[];
    for (const entry of entries) {
      used += entry.size;
      if (used > request.limitBytes) {
        throw asDiskError(new SnapshotTooLarge(request.limitBytes), request);
      }
      await download(request, stage, entry, store);
    }
    log.line(`== artifacts of ${stage}: ${entries.length} files`);
  }
}

async function download(request: WorkspaceRequest, stage: string, entry: ArtifactEntry, store: ArtifactStore) {
  const segments = safeSegments(entry.path);
  if (segments === undefined) {
    throw new ArtifactDownloadFailed(`manifest of "${stage}" lists an unsafe path "${entry.path}"`);
  }
  const key = artifactKey(request.buildId, stage, entry.path);
  const body = await store.get(key);
  if (body === undefined) throw new ArtifactDownloadFailed(`artifact ${key} is missing`);
  const target = join(request.workspace, ...segments);
  const check = new MeasuringStream();
  try {
    await mkdir(dirname(target), { recursive: true });
    await pipeline(body, check, createWriteStream(target));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new OutOfDisk(`no space left writing ${entry.path}`);
    throw new ArtifactDownloadFailed(`could not download ${key}: ${(error as Error).message}`, { cause: error });
  }
  const sha256 = check.sha256();
  const size = check.bytes;
  if (size !== entry.size || sha256 !== entry.sha256) {
    throw new ArtifactDownloadFailed(`artifact ${key} does not match its manifest (size ${size}, sha256 ${sha256})`);
  }
}

function asDiskError(error: unknown, request: WorkspaceRequest): unknown {
  if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return new OutOfDisk('no space left preparing the workspace');
  if (error instanceof SnapshotTooLarge && request.limitIsDisk) {
    return new OutOfDisk(`the source and upstream artifacts need more than the ${request.limitBytes} bytes of disk`);
  }
  return error;
}
