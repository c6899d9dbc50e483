/**
 * StageCredentials on the local farm: the same core (grant lookup, expiry, revocation on
 * the stage's result, secrets resolved from the grant, system secrets refused), called
 * in-process by the local executors. The session it mints is s3rver's dummy credentials:
 * s3rver checks no policy, so locally the stage's reach is limited by the sandbox
 * (bubblewrap), not by the session policy. docs/security.md says so.
 */
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { SecretsProvider } from '../ports/secrets.js';
import type { SessionRequest, StageAccess, StageAccessSource, StageSessionCredentials, StageSessionMinter } from '../ports/stage-access.js';
import { issueStageAccess } from '../handlers/stage-credentials-core.js';

/** What s3rver accepts (it verifies no signature); the session policy is kept for inspection. */
export class LocalSessionMinter implements StageSessionMinter {
  readonly requests: SessionRequest[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  async mint(request: SessionRequest): Promise<StageSessionCredentials> {
    this.requests.push(request);
    return {
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      sessionToken: `local-session-${request.sessionName}`,
      expiration: new Date(this.now() + request.durationSeconds * 1000).toISOString(),
    };
  }
}

export interface LocalStageAccessOptions {
  store: Pick<ArtifactStore, 'getText'>;
  secrets: SecretsProvider;
  /** The bucket's name, for the session policy's ARNs. */
  bucket: string;
  /** The local farm's own secrets (its webhook secret) are refused like the system secrets on AWS. */
  systemSecretArns?: readonly string[];
  now?: () => number;
  minter?: StageSessionMinter;
}

export class LocalStageAccessSource implements StageAccessSource {
  constructor(private readonly options: LocalStageAccessOptions) {}

  open(grant: string): Promise<StageAccess> {
    const now = this.options.now ?? Date.now;
    return issueStageAccess(
      { grant },
      {
        store: this.options.store,
        minter: this.options.minter ?? new LocalSessionMinter(now),
        secrets: this.options.secrets,
        bucketArn: `arn:aws:s3:::${this.options.bucket}`,
        systemSecretArns: this.options.systemSecretArns ?? [],
        now,
      },
    );
  }
}
