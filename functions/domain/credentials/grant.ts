/**
 * A stage grant: what one stage run may reach, written by `Select stages` (a step that
 * runs no user code) and read by StageCredentials, which turns it into short-lived AWS
 * credentials scoped to it plus the stage's declared secrets.
 *
 * The grant is addressed by an unguessable token (>= 128 bits, made by the caller with
 * crypto.randomBytes: the domain takes it as an argument). Only the token's SHA-256 is a
 * key in the bucket (`grants/{sha256}.json`), so reading the bucket's keys, or the record,
 * never yields a token. The token travels in the stage's state (execution history) and in
 * the runner's payload; it is worth nothing without `lambda:InvokeFunction` on
 * StageCredentials, and nothing once the stage has a result or the grant's time is up.
 */
import type { CacheScope } from '../cache/scope.js';
import { branchCachePrefix } from '../cache/cache-keys.js';
import type { SecretRef } from '../pipeline/types.js';
import type { PlannedStage } from '../plan/types.js';
import { LAMBDA_MAX_TIMEOUT_SECONDS } from '../sizing/lambda-sizes.js';
import { buildPrefix, stagePrefix, stageResultKey } from '../storage-keys.js';

export const GRANTS_PREFIX = 'grants/';

/** Tokens are 32 random bytes, hex: 256 bits, twice the 128 the design asks for. */
export const GRANT_TOKEN_BYTES = 32;
const TOKEN_PATTERN = /^[0-9a-f]{64}$/;
const HASH_PATTERN = /^[0-9a-f]{64}$/;

/**
 * Slack added to a grant's lifetime: Fargate provisioning and image pull, the Lambda
 * invocation's own margin, state machine retries with back-off (up to about 10 minutes).
 */
export const GRANT_MARGIN_SECONDS = 3600;

export interface StageGrant {
  version: 1;
  buildId: string;
  stage: string;
  /** Object-key prefix the stage may read (its build's snapshot, plan and upstream outputs). */
  readPrefix: string;
  /** Object-key prefix the stage may write (its own log, manifest, artifacts and result). */
  writePrefix: string;
  /** The stage's result record: once it exists the grant is revoked (see `revokingResult`). */
  resultKey: string;
  /**
   * Cache scopes (`caches/{owner}/{repo}/{branch}/`) the stage may read, own branch first;
   * only for a stage with a cache. See domain/cache/scope.ts.
   */
  cacheRead?: string[];
  /** The one cache scope the stage may write: a push's own branch; never for a pull request or a fork. */
  cacheWrite?: string;
  /** Declared secrets, by environment variable; empty when the build's secrets are withheld. */
  secrets: Record<string, SecretRef>;
  /** ISO time the grant was written. */
  issuedAt: string;
  /** ISO time after which no credentials are minted for it. */
  notAfter: string;
}

export class MalformedGrantToken extends Error {
  override readonly name = 'MalformedGrantToken';
}

/** Where the record of a token lives; `tokenHash` is its SHA-256, hex (the caller hashes). */
export function grantRecordKey(tokenHash: string): string {
  if (!HASH_PATTERN.test(tokenHash)) throw new MalformedGrantToken('a grant record key needs a SHA-256 hex digest');
  return `${GRANTS_PREFIX}${tokenHash}.json`;
}

/** Throws unless `token` looks like a token this farm mints (64 lowercase hex digits). */
export function checkGrantToken(token: unknown): string {
  if (typeof token !== 'string' || !TOKEN_PATTERN.test(token)) {
    throw new MalformedGrantToken(`a stage grant token is ${GRANT_TOKEN_BYTES * 2} lowercase hex digits`);
  }
  return token;
}

/**
 * Longest time a stage can take from selection to its result, in seconds: a Lambda stage
 * may use the whole function timeout and then escalate to Fargate for its own timeout; a
 * Spot stage interrupted late runs its whole timeout again on on-demand Fargate.
 */
export function stageBudgetSeconds(stage: Pick<PlannedStage, 'runner' | 'timeoutSeconds'> & { fargate?: { spot?: boolean } }): number {
  const rerun = stage.fargate?.spot === true ? stage.timeoutSeconds : 0;
  return (stage.runner === 'lambda' ? LAMBDA_MAX_TIMEOUT_SECONDS : 0) + stage.timeoutSeconds + rerun;
}

/**
 * How long the grants of one wave live. The wave's stages may run one after another
 * (MaxStageConcurrency can be 1), so the last one may start after all the others'
 * budgets: the sum bounds every stage's end.
 */
export function waveGrantSeconds(stages: readonly Parameters<typeof stageBudgetSeconds>[0][]): number {
  return stages.reduce((sum, stage) => sum + stageBudgetSeconds(stage), 0) + GRANT_MARGIN_SECONDS;
}

export interface GrantRequest {
  buildId: string;
  stage: Pick<PlannedStage, 'name' | 'secrets' | 'cache'>;
  /** The plan's cache scope: a stage with a cache gets these scopes in its grant. */
  cacheScope?: CacheScope;
  /** A fork's build under the `no-secrets` policy: the grant names no secret at all. */
  secretsWithheld: boolean;
  /** Epoch ms. */
  now: number;
  lifetimeSeconds: number;
}

export function stageGrant(request: GrantRequest): StageGrant {
  const { buildId, stage } = request;
  return {
    version: 1,
    buildId,
    stage: stage.name,
    readPrefix: buildPrefix(buildId),
    writePrefix: stagePrefix(buildId, stage.name),
    resultKey: stageResultKey(buildId, stage.name),
    ...cacheGrant(request),
    secrets: request.secretsWithheld ? {} : { ...stage.secrets },
    issuedAt: new Date(request.now).toISOString(),
    notAfter: new Date(request.now + request.lifetimeSeconds * 1000).toISOString(),
  };
}

function cacheGrant({ stage, cacheScope }: GrantRequest): Pick<StageGrant, 'cacheRead' | 'cacheWrite'> {
  if (!stage.cache || !cacheScope) return {};
  const { repository } = cacheScope;
  return {
    cacheRead: cacheScope.read.map((branch) => branchCachePrefix(repository, branch)),
    ...(cacheScope.write !== undefined ? { cacheWrite: branchCachePrefix(repository, cacheScope.write) } : {}),
  };
}

/** Result records that do NOT end the grant: the Lambda attempt's, when it escalates to Fargate. */
const ESCALATING_ERRORS = new Set(['StageTimeout', 'OutOfDisk']);

/**
 * The errorName `Record Fargate result` writes over the result of a Spot task Fargate interrupted
 * (run-task-errors.ts SPOT_INTERRUPTION), before the stage runs again on on-demand Fargate: that
 * run's helpers still need the grant.
 */
export const SPOT_INTERRUPTED_ERROR = 'SpotInterruption';

/**
 * Whether a stage's result record ends its grant. Every result does, except the one the
 * Lambda attempt writes before the state machine escalates the stage to Fargate (the
 * Fargate task still needs the grant) and the one standing for a Spot task that was
 * interrupted (the on-demand rerun needs it). (The stage can write that record itself, so this
 * only shortens a grant; `notAfter` is the bound.)
 */
export function revokingResult(result: { runner?: string; errorName?: string } | undefined): boolean {
  if (result === undefined) return false;
  if (result.runner === 'fargate' && result.errorName === SPOT_INTERRUPTED_ERROR) return false;
  return !(result.runner === 'lambda' && result.errorName !== undefined && ESCALATING_ERRORS.has(result.errorName));
}

/** Checks a record read from the bucket has the shape this module writes. */
export function parseGrant(text: string, where: string): StageGrant {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MalformedGrantToken(`${where} is not JSON`);
  }
  const grant = value as Partial<StageGrant>;
  const strings = ['buildId', 'stage', 'readPrefix', 'writePrefix', 'resultKey', 'issuedAt', 'notAfter'] as const;
  const bad = strings.filter((field) => typeof grant?.[field] !== 'string' || grant[field] === '');
  const cacheOk =
    (grant?.cacheRead === undefined || (Array.isArray(grant.cacheRead) && grant.cacheRead.every((prefix) => typeof prefix === 'string'))) &&
    (grant?.cacheWrite === undefined || typeof grant.cacheWrite === 'string');
  if (!cacheOk) (bad as string[]).push('cacheRead');
  if (grant?.version !== 1 || bad.length > 0 || typeof grant.secrets !== 'object' || grant.secrets === null) {
    throw new MalformedGrantToken(`${where} is not a stage grant${bad.length > 0 ? ` (bad ${bad.join(', ')})` : ''}`);
  }
  return grant as StageGrant;
}
