/**
 * The inline session policy StageCredentials passes to STS AssumeRole for one stage. The
 * session can do only what both the StageAccessRole's own policy and this allow
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session),
 * so the role grants the farm-wide shape (builds/*) and this narrows it to one build and
 * one stage. Prefixes, not key lists: the plaintext of an inline session policy may not
 * exceed 2,048 characters, and STS also rejects a packed policy over its limit
 * (PackedPolicyTooLarge): https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import type { StageGrant } from './grant.js';

export const MAX_SESSION_POLICY_CHARACTERS = 2048;

export class SessionPolicyTooLarge extends Error {
  override readonly name = 'SessionPolicyTooLarge';
}

/** A prefix that is not a literal folder: as a policy resource it would grant more than itself. */
export class UnsafeGrantPrefix extends Error {
  override readonly name = 'UnsafeGrantPrefix';
}

export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/**
 * `*` and `?` are wildcards in IAM resource ARNs and StringLike values; S3 keys may hold
 * them. Build ids and stage names are checked by the planner, but a prefix with a
 * wildcard would widen the grant, so it is refused here whatever produced it.
 */
function literalPrefix(prefix: string, what: string): string {
  // A `.` or `..` SEGMENT could be normalised away by an HTTP client; `..` inside a name (a stage `v1..2`) is literal.
  const dotSegment = prefix.split('/').some((segment) => segment === '.' || segment === '..');
  if (/[*?$]/.test(prefix) || dotSegment || !prefix.endsWith('/')) throw new UnsafeGrantPrefix(`${what} "${prefix}" holds a policy wildcard or a dot segment, or does not end with /`);
  return prefix;
}

export function stageSessionPolicy(bucketArn: string, grant: Pick<StageGrant, 'readPrefix' | 'writePrefix' | 'cacheRead' | 'cacheWrite'>): PolicyDocument {
  const read = literalPrefix(grant.readPrefix, 'read prefix');
  const write = literalPrefix(grant.writePrefix, 'write prefix');
  const cacheRead = (grant.cacheRead ?? []).map((prefix) => literalPrefix(prefix, 'cache read prefix'));
  const cacheWrite = grant.cacheWrite !== undefined ? literalPrefix(grant.cacheWrite, 'cache write prefix') : undefined;
  const policy: PolicyDocument = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'ReadBuild', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucketArn}/${read}*` },
      // The uploader (adapters/aws/multipart-upload.ts) sends parts and aborts a failed upload (s3:AbortMultipartUpload).
      { Sid: 'WriteStage', Effect: 'Allow', Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn}/${write}*` },
      // So a missing key of the build answers 404 rather than 403, as for the other roles.
      {
        Sid: 'ListBuild',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        // The cache scopes are listed too: a miss falls back to the newest entry with the same prefix.
        Condition: { StringLike: { 's3:prefix': cacheRead.length > 0 ? [`${read}*`, ...cacheRead.map((prefix) => `${prefix}*`)] : `${read}*` } },
      },
      // The dependency cache (domain/cache/scope.ts): read the allowed branches' scopes, write only a push's own.
      ...(cacheRead.length > 0 ? [{ Sid: 'ReadCaches', Effect: 'Allow' as const, Action: 's3:GetObject', Resource: cacheRead.map((prefix) => `${bucketArn}/${prefix}*`) }] : []),
      ...(cacheWrite ? [{ Sid: 'WriteCache', Effect: 'Allow' as const, Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: `${bucketArn}/${cacheWrite}*` }] : []),
    ],
  };
  const characters = JSON.stringify(policy).length;
  if (characters > MAX_SESSION_POLICY_CHARACTERS) {
    throw new SessionPolicyTooLarge(`the stage's session policy is ${characters} characters, above STS's ${MAX_SESSION_POLICY_CHARACTERS}`);
  }
  return policy;
}

/**
 * RoleSessionName: 2 to 64 characters of `[\w+=,.@-]`. It shows in CloudTrail as the
 * caller, so it names the build and stage as far as they fit.
 */
export function roleSessionName(buildId: string, stage: string): string {
  const name = `bf.${buildId}.${stage}`.replace(/[^\w+=,.@-]/g, '-');
  return name.slice(0, 64);
}

/** STS accepts 900 s to the role's maximum, and a chained role session at most 3,600 s. */
export const MIN_SESSION_SECONDS = 900;
export const MAX_CHAINED_SESSION_SECONDS = 3600;

/** As long as the grant still lives, within what STS accepts for a chained session. */
export function sessionDurationSeconds(notAfterMs: number, nowMs: number): number {
  const left = Math.floor((notAfterMs - nowMs) / 1000);
  return Math.min(MAX_CHAINED_SESSION_SECONDS, Math.max(MIN_SESSION_SECONDS, left));
}
