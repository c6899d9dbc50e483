/**
 * Materialises a stage's workspace: the build's source snapshot, then the artifact
 * archive of every stage it receives artifacts from (domain/plan/artifact-sources.ts),
 * each checked against the sha256 and size its manifest recorded.
 *
 * S3 requests: GET the snapshot, and per artifact source GET its manifest and (when it
 * stored anything) its archive: constant per source, nothing for upstream stages that
 * declare no artifacts.
 */
import type { ArtifactManifest } from '../domain/report/types.js';
import { artifactArchiveKey, manifestKey, sourceKey } from '../domain/storage-keys.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import { unpackArchive } from './archive/index.js';
import { ArtifactCorrupt, ArtifactDownloadFailed, OutOfDisk, SnapshotMissing, SnapshotTooLarge, UnsafeArchive } from './errors.js';
import { extractSnapshot } from './extract-snapshot.js';
import type { PhaseClock } from './phase-clock.js';
import type { StageLog } from './stage-log.js';

export interface WorkspaceRequest {
  buildId: string;
  /** The stages whose artifacts join the workspace (`artifactSources(stage)`), in order: a later one wins a clash. */
  artifactsFrom: string[];
  workspace: string;
  /** Cap on what the snapshot and artifacts may occupy. */
  limitBytes: number;
  /** True when the limit is the runner's disk (then too big is OutOfDisk, which escalates). */
  limitIsDisk: boolean;
}

export async function prepareWorkspace(
  request: WorkspaceRequest,
  store: Pick<ArtifactStore, 'get' | 'getText'>,
  log: Pick<StageLog, 'line'>,
  clock?: Pick<PhaseClock, 'time'>,
): Promise<void> {
  const time = <T>(phase: 'snapshotMs' | 'artifactsInMs', work: () => Promise<T>) => (clock ? clock.time(phase, work) : work());
  const used = await time('snapshotMs', () => addSnapshot(request, store, log));
  if (request.artifactsFrom.length > 0) await time('artifactsInMs', () => addArtifacts(request, store, log, used));
}

/** Unpacks the source snapshot; returns its bytes. */
async function addSnapshot(request: WorkspaceRequest, store: Pick<ArtifactStore, 'get'>, log: Pick<StageLog, 'line'>): Promise<number> {
  const snapshot = await store.get(sourceKey(request.buildId));
  if (snapshot === undefined) throw new SnapshotMissing(`no source snapshot at ${sourceKey(request.buildId)}`);
  try {
    const summary = await extractSnapshot(snapshot, request.workspace, {
      stripTopLevel: true,
      maxBytes: request.limitBytes,
    });
    log.line(`== source: ${summary.files} files, ${summary.bytes} bytes`);
    return summary.bytes;
  } catch (error) {
    throw asDiskError(error, request);
  }
}

/** Unpacks each upstream stage's archive; returns the bytes the workspace now holds. */
async function addArtifacts(request: WorkspaceRequest, store: Pick<ArtifactStore, 'get' | 'getText'>, log: Pick<StageLog, 'line'>, used: number): Promise<number> {
  for (const stage of request.artifactsFrom) {
    const manifest = await readManifest(request.buildId, stage, store);
    if (manifest.archive === null) {
      log.line(`== artifacts of ${stage}: none`);
      continue;
    }
    const declared = manifest.artifacts.reduce((sum, entry) => sum + entry.size, 0);
    if (used + declared > request.limitBytes) throw asDiskError(new SnapshotTooLarge(request.limitBytes), request);
    // The key is the layout's, not the manifest's: a manifest cannot send the agent to read another object.
    const key = artifactArchiveKey(request.buildId, stage);
    const body = await store.get(key);
    if (body === undefined) throw new ArtifactDownloadFailed(`the artifacts of "${stage}" are missing at ${key}`);
    try {
      // The cap is what is left of the limit: an archive that unpacks to more than its manifest said stops there.
      const summary = await unpackArchive(body, request.workspace, {
        sha256: manifest.archive.sha256,
        bytes: manifest.archive.bytes,
        compression: manifest.archive.compression,
        maxBytes: request.limitBytes - used,
        name: key,
      });
      used += summary.bytes;
    } catch (error) {
      if (error instanceof ArtifactCorrupt || error instanceof UnsafeArchive || error instanceof SnapshotTooLarge) throw asDiskError(error, request);
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') throw new OutOfDisk(`no space left unpacking the artifacts of "${stage}"`);
      throw new ArtifactDownloadFailed(`could not download ${key}: ${(error as Error).message}`, { cause: error });
    }
    log.line(`== artifacts of ${stage}: ${manifest.artifacts.length} files and links, ${manifest.archive.bytes} bytes`);
  }
  return used;
}

async function readManifest(buildId: string, stage: string, store: Pick<ArtifactStore, 'getText'>): Promise<ArtifactManifest> {
  const key = manifestKey(buildId, stage);
  const text = await store.getText(key);
  if (text === undefined) throw new ArtifactDownloadFailed(`upstream stage "${stage}" has no manifest at ${key}`);
  const manifest = JSON.parse(text) as Partial<ArtifactManifest>;
  if (manifest.version !== 2 || manifest.archive === undefined || !Array.isArray(manifest.artifacts)) {
    throw new ArtifactDownloadFailed(`the manifest at ${key} is not one this farm writes (version 2, with an archive); rerun the build`);
  }
  return manifest as ArtifactManifest;
}

function asDiskError(error: unknown, request: WorkspaceRequest): unknown {
  if ((error as NodeJS.ErrnoException).code === 'ENOSPC') return new OutOfDisk('no space left preparing the workspace');
  if (error instanceof SnapshotTooLarge && request.limitIsDisk) {
    return new OutOfDisk(`the source and upstream artifacts need more than the ${request.limitBytes} bytes of disk`);
  }
  return error;
}
