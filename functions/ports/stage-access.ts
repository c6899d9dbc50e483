/** Temporary AWS credentials scoped to one stage (an STS session). */
export interface StageSessionCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ISO time the session ends. */
  expiration: string;
}

/** A declared secret, resolved by StageCredentials. */
export interface GrantedSecret {
  /** The environment variable the stage declared it as. */
  name: string;
  /** The reference as written (`SecretRef.raw`). */
  ref: string;
  value: string;
}

/** What StageCredentials answers: the stage's credentials and its declared secrets. */
export interface StageAccess {
  credentials: StageSessionCredentials;
  secrets: GrantedSecret[];
}

/** How a runner reaches StageCredentials: a Lambda invocation on AWS, a call in-process locally. */
export interface StageAccessSource {
  open(grant: string): Promise<StageAccess>;
}

export interface SessionRequest {
  /** The inline session policy, JSON (at most 2,048 characters). */
  policy: string;
  sessionName: string;
  durationSeconds: number;
}

/** Makes the session: STS AssumeRole of StageAccessRole on AWS. */
export interface StageSessionMinter {
  mint(request: SessionRequest): Promise<StageSessionCredentials>;
}
