import type { SecretRef } from '../domain/pipeline/types.js';

/** Resolves secret references: Secrets Manager or SSM Parameter Store on AWS. */
export interface SecretsProvider {
  resolve(ref: SecretRef): Promise<string>;
}
