/**
 * Task definition families. One family per distinct task definition content
 * (image, architecture, root or not, helper settings): the family name carries a
 * hash of the whole registration request, so a family's ACTIVE revision always
 * has exactly the content we need and can be reused as is. Per-run CPU, memory
 * and storage travel as RunTask overrides, so a family never needs a second revision.
 *
 * Family rule (RegisterTaskDefinition): up to 255 letters, digits, `_` and `-`.
 * https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html
 */
import { createHash } from 'node:crypto';

export const FAMILY_PREFIX = 'buildfarm-';
export const FAMILY_MAX_LENGTH = 255;
/** Hex characters of the content hash kept in the name: 64 bits, collisions are not a concern at this scale. */
export const FAMILY_HASH_LENGTH = 16;
/** Room for the readable image part; the whole name stays far below 255 so it reads well in the console. */
export const FAMILY_IMAGE_PART_MAX = 100;

const FAMILY_PATTERN = /^[A-Za-z0-9_-]{1,255}$/;

export function isValidFamily(family: string): boolean {
  return FAMILY_PATTERN.test(family) && family.length <= FAMILY_MAX_LENGTH;
}

/** A readable, valid fragment of an image reference: `public.ecr.aws/docker/library/maven:3-eclipse-temurin-21` → `maven-3-eclipse-temurin-21`. */
export function sanitizeImageForFamily(image: string): string {
  // The registry and path tell little; the last path segment (name:tag) is what a person recognises.
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  const cleaned = lastSegment
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^[-_]+|[-_]+$/g, '')
    .slice(0, FAMILY_IMAGE_PART_MAX)
    .replace(/[-_]+$/g, '');
  return cleaned || 'image';
}

/** JSON with object keys sorted at every level, so equal content always hashes equally. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * `buildfarm-<sanitized image>-<hash>`, where the hash covers the whole task
 * definition content (everything but the family itself).
 */
export function taskDefinitionFamily(image: string, content: unknown): string {
  const hash = createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, FAMILY_HASH_LENGTH);
  return `${FAMILY_PREFIX}${sanitizeImageForFamily(image)}-${hash}`;
}
