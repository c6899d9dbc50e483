/**
 * Why StageCredentials refuses. The names are API: the runners report them, and a stage
 * whose grant is refused fails with the name in its error.
 */
export class StageAccessRefused extends Error {
  override readonly name: string = 'StageAccessRefused';
}

/** No record for the token: never minted, or expired by the bucket's lifecycle rule. */
export class GrantUnknown extends StageAccessRefused {
  override readonly name = 'GrantUnknown';
}

/** The grant's notAfter has passed. */
export class GrantExpired extends StageAccessRefused {
  override readonly name = 'GrantExpired';
}

/** The stage already has its result: its credentials are no longer handed out. */
export class GrantRevoked extends StageAccessRefused {
  override readonly name = 'GrantRevoked';
}

/** A stage declared the webhook secret or the GitHub token: those are never given to a stage. */
export class SystemSecretRefused extends StageAccessRefused {
  override readonly name = 'SystemSecretRefused';
}
