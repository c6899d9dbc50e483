/**
 * Resolves secret references on AWS: Secrets Manager (optionally a key of a
 * JSON secret) or SSM Parameter Store (SecureString decrypted).
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { SecretRef } from '../../domain/pipeline/types.js';
import type { SecretsProvider } from '../../ports/secrets.js';

export class AwsSecretsProvider implements SecretsProvider {
  constructor(
    private readonly secretsManager: SecretsManagerClient,
    private readonly ssm: SSMClient,
  ) {}

  async resolve(ref: SecretRef): Promise<string> {
    if (ref.source === 'ssm') {
      const response = await this.ssm.send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }));
      const value = response.Parameter?.Value;
      if (value === undefined) throw new Error(`SSM parameter ${ref.id} has no value`);
      return value;
    }
    const response = await this.secretsManager.send(new GetSecretValueCommand({ SecretId: ref.id }));
    const text = response.SecretString ?? (response.SecretBinary ? Buffer.from(response.SecretBinary).toString('utf8') : undefined);
    if (text === undefined) throw new Error(`secret ${ref.id} has no value`);
    if (ref.jsonKey === undefined) return text;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`secret ${ref.id} is not JSON, so it has no key "${ref.jsonKey}"`);
    }
    const value = (parsed as Record<string, unknown> | null)?.[ref.jsonKey];
    if (value === undefined || value === null) throw new Error(`secret ${ref.id} has no key "${ref.jsonKey}"`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
}
