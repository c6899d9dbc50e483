import { createHash } from 'node:crypto';

/**
 * A Step Functions execution name is 1 to 80 characters and, to stay usable
 * in CloudWatch Logs and metrics, should use only `0-9A-Za-z-_`.
 * https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html
 *
 * The name is derived from the delivery id (kept by GitHub on a redelivery)
 * so a duplicate delivery or SNS message names the same execution and
 * Step Functions refuses the second one (`ExecutionAlreadyExists`). It is
 * also the build id, which shows up in S3 keys and the console.
 *
 * Layout: `<repository>-<delivery id>-<hash>`. The readable parts are
 * sanitized and truncated, so they alone could collide; the hash is taken
 * over the exact, unsanitized inputs and keeps distinct deliveries apart.
 */
export const EXECUTION_NAME_MAX_LENGTH = 80;
export const EXECUTION_NAME_PATTERN = /^[0-9A-Za-z_-]{1,80}$/;

const REPOSITORY_PART_MAX = 24;
/** A GitHub delivery id is a GUID: 36 characters. */
const DELIVERY_PART_MAX = 36;
/** 16 hex digits = 64 bits: a collision needs about four billion deliveries. */
const HASH_LENGTH = 16;

export function executionName(deliveryId: string, repository: string): string {
  const hash = createHash('sha256').update(JSON.stringify([repository, deliveryId])).digest('hex').slice(0, HASH_LENGTH);
  const parts = [repositoryPart(repository), sanitize(deliveryId, DELIVERY_PART_MAX), hash];
  return parts.filter((part) => part.length > 0).join('-');
}

/**
 * How every execution name of `repository` starts (`''` when nothing of the
 * name survives sanitizing): lets a lookup skip other repositories' builds
 * without describing them. A prefix, not an identity: check the input too.
 */
export function executionNamePrefix(repository: string): string {
  const part = repositoryPart(repository);
  return part.length > 0 ? `${part}-` : '';
}

function repositoryPart(repository: string): string {
  return sanitize(repository.replaceAll('/', '_'), REPOSITORY_PART_MAX);
}

/** Keeps `0-9A-Za-z_`, turns runs of anything else into one `-`, trims `-` at the ends. */
function sanitize(text: string, maxLength: number): string {
  return text
    .replace(/[^0-9A-Za-z_]+/g, '-')
    .slice(0, maxLength)
    .replace(/^-+|-+$/g, '');
}
