/**
 * StageCredentials: turns a stage grant token into credentials for that stage alone.
 *
 * It runs no user code and is the only holder of the stage secrets' read access. A
 * runner (Lambda runner, Fargate fetch/publish helper, local executor) sends `{ grant }`;
 * this reads `grants/{sha256(token)}.json`, refuses when the grant is unknown, past its
 * notAfter, or the stage already has its result (revocation), mints an STS session of
 * StageAccessRole narrowed by an inline session policy to the build's prefix (read) and
 * the stage's prefix (write), and resolves the declared secrets itself. Secrets never
 * pass through the state machine's input or output.
 */
import { createHash } from 'node:crypto';
import { GrantExpired, GrantRevoked, GrantUnknown, SystemSecretRefused } from '../domain/credentials/errors.js';
import { checkGrantToken, grantRecordKey, parseGrant, revokingResult, type StageGrant } from '../domain/credentials/grant.js';
import { roleSessionName, sessionDurationSeconds, stageSessionPolicy } from '../domain/credentials/session-policy.js';
import { namesSystemSecret } from '../domain/credentials/system-secrets.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SecretsProvider } from '../ports/secrets.js';
import type { GrantedSecret, StageAccess, StageSessionMinter } from '../ports/stage-access.js';

export interface StageCredentialsInput {
  grant: string;
}

export interface StageCredentialsDeps {
  /** Reads grant records and stage results (the control plane's view of the bucket). */
  store: Pick<ArtifactStore, 'getText'>;
  minter: StageSessionMinter;
  /** Resolves declared secrets; the AWS one also refuses a system secret by the ARN it reads. */
  secrets: SecretsProvider;
  /** `arn:${partition}:s3:::${bucket}`. */
  bucketArn: string;
  /** ARNs of the webhook secret and the GitHub token (empty strings are ignored). */
  systemSecretArns: readonly string[];
  now: () => number;
}

export function grantTokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The grant behind a token, if it may still be used (shared by the local farm's runners). */
export async function liveGrant(token: string, deps: Pick<StageCredentialsDeps, 'store' | 'now'>): Promise<StageGrant> {
  const key = grantRecordKey(grantTokenHash(checkGrantToken(token)));
  const text = await deps.store.getText(key);
  // The token is not repeated in any message: messages reach logs.
  if (text === undefined) throw new GrantUnknown('no stage grant matches this token');
  const grant = parseGrant(text, key);
  if (deps.now() >= Date.parse(grant.notAfter)) {
    throw new GrantExpired(`the grant of stage "${grant.stage}" (build ${grant.buildId}) expired at ${grant.notAfter}`);
  }
  const resultText = await deps.store.getText(grant.resultKey);
  const result = resultText === undefined ? undefined : (JSON.parse(resultText) as { runner?: string; errorName?: string });
  if (revokingResult(result)) {
    throw new GrantRevoked(`stage "${grant.stage}" (build ${grant.buildId}) has its result: its grant is over`);
  }
  return grant;
}

/** Resolves the grant's declared secrets, refusing any that names a system secret. */
export async function grantedSecrets(grant: StageGrant, deps: Pick<StageCredentialsDeps, 'secrets' | 'systemSecretArns'>): Promise<GrantedSecret[]> {
  const entries = Object.entries(grant.secrets);
  const system = entries.filter(([, ref]) => namesSystemSecret(ref, deps.systemSecretArns));
  if (system.length > 0) {
    throw new SystemSecretRefused(`stage "${grant.stage}" declares the farm's own secret as ${system.map(([name]) => name).join(', ')}: never given to a stage`);
  }
  const secrets: GrantedSecret[] = [];
  for (const [name, ref] of entries) secrets.push({ name, ref: ref.raw, value: await deps.secrets.resolve(ref) });
  return secrets;
}

export async function issueStageAccess(input: StageCredentialsInput, deps: StageCredentialsDeps): Promise<StageAccess> {
  const grant = await liveGrant(input?.grant, deps);
  const policy = stageSessionPolicy(deps.bucketArn, grant);
  const [credentials, secrets] = await Promise.all([
    deps.minter.mint({
      policy: JSON.stringify(policy),
      sessionName: roleSessionName(grant.buildId, grant.stage),
      durationSeconds: sessionDurationSeconds(Date.parse(grant.notAfter), deps.now()),
    }),
    grantedSecrets(grant, deps),
  ]);
  return { credentials, secrets };
}
