/**
 * A stage's log and artifacts as the dashboard downloads them from the store once the
 * stage has run: only what the build's report and manifests name.
 */
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type { ArtifactManifest } from '../domain/report/types.js';
import { artifactArchiveKey, manifestKey, stageLogKey } from '../domain/storage-keys.js';
import type { ArtifactStore, ObjectRead, RangeRequest } from '../ports/artifact-store.js';
import { readArchiveMember } from '../runner/archive/read-member.js';
import { safeSegments } from '../runner/artifact-path.js';
import type { BuildRecord } from './build-record.js';
import { readBuffer } from './live-stage-logs.js';

export async function readStoredLog(
  artifacts: ArtifactStore,
  record: BuildRecord,
  id: string,
  stage: string,
  range?: RangeRequest,
): Promise<ObjectRead | 'unsatisfiable' | undefined> {
  const key = record.report?.stages.find((s) => s.name === stage)?.logKey ?? stageLogKey(id, stage);
  // Streamed from the store: a stored log is capped (64 MiB by default) but never read whole here.
  if (artifacts.read !== undefined) return artifacts.read(key, range);
  const text = await artifacts.getText(key);
  return text === undefined ? undefined : readBuffer(Buffer.from(text), range);
}

/**
 * One artifact, streamed out of the stage's archive (read up to that file, no further). A link is
 * served as the file it points to in the same archive.
 */
export async function readStoredArtifact(
  artifacts: ArtifactStore,
  record: BuildRecord | undefined,
  id: string,
  stage: string,
  path: string,
): Promise<Readable | undefined> {
  const listed = record?.report?.stages.find((s) => s.name === stage)?.artifacts.find((a) => a.path === path);
  // Only what a stage's manifest lists is served: no reading other keys through crafted paths.
  if (!listed) return undefined;
  const member = listed.type === 'symlink' ? posix.join(posix.dirname(path), listed.target ?? '') : path;
  if (safeSegments(member) === undefined) return undefined;
  const manifestText = await artifacts.getText(manifestKey(id, stage));
  const manifest = manifestText === undefined ? undefined : (JSON.parse(manifestText) as Partial<ArtifactManifest>);
  if (!manifest?.archive) return undefined;
  const archive = await artifacts.get(artifactArchiveKey(id, stage));
  if (archive === undefined) return undefined;
  return readArchiveMember(archive, member, manifest.archive.compression);
}
