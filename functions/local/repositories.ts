/**
 * `--repo OWNER/NAME=PATH`: which local git repository a GitHub repository's
 * webhooks build from. The mapped names are also the webhook's allowlist, so
 * a delivery for any other repository is answered "skipped", not built.
 */
import { resolve } from 'node:path';
import { UserError } from '../domain/errors.js';

export interface RepositoryMapping {
  /** `owner/name` as GitHub spells it. */
  repository: string;
  /** Absolute path of a git working tree or bare repository. */
  path: string;
}

/** GitHub owner and repository names: letters, digits, `-`, `_`, `.`. */
const REPOSITORY = /^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/;

export function parseRepositoryFlag(text: string, cwd: string): RepositoryMapping {
  const equals = text.indexOf('=');
  const repository = equals > 0 ? text.slice(0, equals) : '';
  const path = equals > 0 ? text.slice(equals + 1) : '';
  if (!REPOSITORY.test(repository) || path.length === 0) {
    throw new UserError(`--repo: "${text}" is not OWNER/NAME=PATH (for example --repo octo-org/api=../api)`);
  }
  return { repository, path: resolve(cwd, path) };
}

/** Later flags win over earlier ones for the same repository (names compare case-insensitively, as on GitHub). */
export function mergeMappings(mappings: RepositoryMapping[]): RepositoryMapping[] {
  const byName = new Map<string, RepositoryMapping>();
  for (const mapping of mappings) byName.set(mapping.repository.toLowerCase(), mapping);
  return [...byName.values()];
}

export function findMapping(mappings: RepositoryMapping[], repository: string): RepositoryMapping | undefined {
  const wanted = repository.toLowerCase();
  return mappings.find((mapping) => mapping.repository.toLowerCase() === wanted);
}
