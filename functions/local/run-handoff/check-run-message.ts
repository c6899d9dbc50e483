/**
 * The farm's check of a `run` message before it builds anything from it. Whoever connects is this
 * user (socket-folder.ts), but the message still names paths and keys the farm writes under: a
 * build id becomes a folder of DATA/builds and an S3 prefix, a subdirectory a path inside the
 * repository.
 */
import { isAbsolute } from 'node:path';
import type { BuildRequest } from '../../domain/build-request.js';
import type { LocalSourceMapping } from '../farm-context.js';
import { describeDifferences, settingsDifferences, type FarmSettings } from './protocol.js';

export type CheckedRun =
  | { ok: true; buildId: string; request: BuildRequest; repository: LocalSourceMapping }
  | { ok: false; refused: string };

/** `run-20261202033412345-0123abc`, as `buildfarm run` names builds; any id of this alphabet is accepted. */
const BUILD_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/;
const REQUEST_STRINGS = ['deliveryId', 'event', 'repository', 'cloneUrl', 'ref', 'branch', 'sha', 'message', 'sender', 'receivedAt'] as const;

export function checkRunMessage(message: Record<string, unknown>, ours: FarmSettings): CheckedRun {
  const settings = message.settings as FarmSettings | undefined;
  if (settings === null || typeof settings !== 'object') return { ok: false, refused: 'the run message has no settings' };
  const differences = settingsDifferences(ours, settings);
  if (differences.length > 0) return { ok: false, refused: `buildfarm serve was started with other settings: ${describeDifferences(differences)} (flags or their environment variables)` };
  const { buildId, request, repository } = message as { buildId?: unknown; request?: Partial<BuildRequest>; repository?: Partial<LocalSourceMapping> };
  if (typeof buildId !== 'string' || !BUILD_ID.test(buildId)) return { ok: false, refused: `buildId: ${JSON.stringify(buildId)} is not a build id (letters, digits, - and _)` };
  if (request === null || typeof request !== 'object') return { ok: false, refused: 'request: missing' };
  for (const field of REQUEST_STRINGS) {
    if (typeof request[field] !== 'string') return { ok: false, refused: `request.${field}: not a string` };
  }
  if (request.deliveryId !== buildId) return { ok: false, refused: 'request.deliveryId: not the build id' };
  if (request.event !== 'push' || request.fromFork !== false) return { ok: false, refused: 'request: a run builds a push of its own repository, never a fork' };
  if (repository === null || typeof repository !== 'object') return { ok: false, refused: 'repository: missing' };
  if (typeof repository.repository !== 'string' || repository.repository.toLowerCase() !== request.repository!.toLowerCase()) {
    return { ok: false, refused: 'repository.repository: not the request\'s repository' };
  }
  if (typeof repository.path !== 'string' || !isAbsolute(repository.path) || repository.path.includes('\0')) return { ok: false, refused: 'repository.path: not an absolute path' };
  const subdirectory = repository.subdirectory ?? '';
  if (typeof subdirectory !== 'string' || isAbsolute(subdirectory) || subdirectory.split(/[\\/]/).includes('..') || subdirectory.includes('\0')) {
    return { ok: false, refused: 'repository.subdirectory: not a folder inside the repository' };
  }
  return {
    ok: true,
    buildId,
    request: request as BuildRequest,
    repository: { repository: repository.repository, path: repository.path, ...(subdirectory ? { subdirectory } : {}) },
  };
}
