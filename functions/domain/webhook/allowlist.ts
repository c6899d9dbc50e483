import { InvalidAllowlist } from './errors.js';

/**
 * Which repositories may build: entries `owner/*` (every repository of an
 * owner) or `owner/name`. GitHub names are case-insensitive, so matching is
 * too. An empty allowlist allows every repository whose deliveries carry a
 * valid signature (the secret is the real gate).
 */
export type Allowlist = readonly string[];

/**
 * GitHub owners are letters, digits and `-` (`_` for managed users);
 * repository names add `.` but are never `.` or `..`.
 */
const ENTRY = /^[A-Za-z0-9_-]+\/(\*|(?!\.{1,2}$)[A-Za-z0-9_.-]+)$/;

/** Parses `owner/*, owner/name ...` (commas or whitespace between entries). */
export function parseAllowlist(text: string | undefined): Allowlist {
  if (text === undefined) return [];
  const entries = text.split(/[\s,]+/).filter((entry) => entry.length > 0);
  const invalid = entries.filter((entry) => !ENTRY.test(entry));
  if (invalid.length > 0) {
    throw new InvalidAllowlist(
      `allowlist entries must be "owner/*" or "owner/name"; not ${invalid.map((e) => JSON.stringify(e)).join(', ')}`,
    );
  }
  return entries;
}

/** True when `repository` (`owner/name`) matches an entry, or the allowlist is empty. */
export function isAllowed(repository: string, allowlist: Allowlist | undefined): boolean {
  if (allowlist === undefined || allowlist.length === 0) return true;
  const [owner, name] = repository.toLowerCase().split('/');
  return allowlist.some((entry) => {
    const [allowedOwner, allowedName] = entry.toLowerCase().split('/');
    return allowedOwner === owner && (allowedName === '*' || allowedName === name);
  });
}
