/**
 * Resolves secret references on AWS: Secrets Manager (optionally a key of a
 * JSON secret) or SSM Parameter Store (SecureString decrypted).
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
 * https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetParameter.html
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { SystemSecretRefused } from '../../domain/credentials/errors.js';
import type { SecretRef } from '../../domain/pipeline/types.js';
import type { SecretsProvider } from '../../ports/secrets.js';

export class AwsSecretsProvider implements SecretsProvider {
  constructor(
    private readonly secretsManager: SecretsManagerClient,
    private readonly ssm: SSMClient,
    /** StageCredentials: the ARNs a stage must never read (the secret's real ARN is checked after the read). */
    private readonly refuseArn: (arn: string) => boolean = () => false,
  ) {}

  async resolve(ref: SecretRef): Promise<string> {
    if (ref.source === 'ssm') {
      const response = await this.ssm.send(new GetParameterCommand({ Name: ref.id, WithDecryption: true }));
      const value = response.Parameter?.Value;
      if (value === undefined) throw new Error(`SSM parameter ${ref.id} has no value`);
      return value;
    }
    const response = await this.secretsManager.send(new GetSecretValueCommand({ SecretId: ref.id }));
    if (response.ARN !== undefined && this.refuseArn(response.ARN)) {
      throw new SystemSecretRefused(`${ref.raw} is one of the farm's own secrets: never given to a stage`);
    }
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
