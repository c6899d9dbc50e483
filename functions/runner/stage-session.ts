/**
 * A runner's hold on its stage's access: the first StageCredentials answer (credentials
 * and declared secrets), and a credential provider for the S3 client that asks again
 * when the session is within five minutes of its end (sessions last 15 to 60 minutes;
 * a Fargate stage can run for hours, and its publish helper asks afresh anyway).
 *
 * The runner's own role can do nothing but invoke StageCredentials: this session is the
 * only way the runner reaches the bucket.
 */
import type { SecretRef } from '../domain/pipeline/types.js';
import type { SecretsProvider } from '../ports/secrets.js';
import type { GrantedSecret, StageAccess, StageAccessSource, StageSessionCredentials } from '../ports/stage-access.js';

/** The shape the AWS SDK v3 takes for `credentials` (AwsCredentialIdentity). */
export interface SdkCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

export const REFRESH_BEFORE_MS = 5 * 60_000;

export class StageSession {
  private constructor(
    private readonly source: StageAccessSource,
    private readonly grant: string,
    private current: StageSessionCredentials,
    readonly secrets: readonly GrantedSecret[],
    private readonly now: () => number,
  ) {}

  static async open(source: StageAccessSource, grant: string, now: () => number = Date.now): Promise<StageSession> {
    const access: StageAccess = await source.open(grant);
    return new StageSession(source, grant, access.credentials, access.secrets, now);
  }

  /** For `new S3Client({ credentials: session.credentialProvider })`. */
  readonly credentialProvider = async (): Promise<SdkCredentials> => {
    if (Date.parse(this.current.expiration) - this.now() < REFRESH_BEFORE_MS) {
      this.current = (await this.source.open(this.grant)).credentials;
    }
    const c = this.current;
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: new Date(c.expiration) };
  };

  /** The declared secrets as the stage agent asks for them (by reference). */
  secretsProvider(): SecretsProvider {
    return new GrantedSecrets(this.secrets);
  }
}

/** Answers only the references StageCredentials resolved for this stage. */
export class GrantedSecrets implements SecretsProvider {
  private readonly byRef: Map<string, string>;

  constructor(secrets: readonly GrantedSecret[]) {
    this.byRef = new Map(secrets.map((secret) => [secret.ref, secret.value]));
  }

  async resolve(ref: SecretRef): Promise<string> {
    const value = this.byRef.get(ref.raw);
    if (value === undefined) throw new Error(`${ref.raw} is not among the secrets granted to this stage`);
    return value;
  }
}
