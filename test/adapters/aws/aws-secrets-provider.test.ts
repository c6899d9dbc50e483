import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { AwsSecretsProvider } from '../../../functions/adapters/aws/aws-secrets-provider.js';

describe('Class: AwsSecretsProvider', () => {
  const secretsManager = mockClient(SecretsManagerClient);
  const ssm = mockClient(SSMClient);
  const provider = new AwsSecretsProvider(new SecretsManagerClient({ region: 'us-east-1' }), new SSMClient({ region: 'us-east-1' }));
  afterEach(() => {
    secretsManager.reset();
    ssm.reset();
  });

  describe('Method: resolve', () => {
    it('reads a Secrets Manager secret string', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand, { SecretId: 'prod/npm' }).resolves({ SecretString: 'npm_token' });
      // Act
      const value = await provider.resolve({ source: 'secretsmanager', id: 'prod/npm', raw: 'x' });
      // Assess
      expect(value).toBe('npm_token');
    });

    it('reads one key of a JSON secret', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"user":"u","password":"p4ss"}' });
      // Act
      const value = await provider.resolve({ source: 'secretsmanager', id: 'db', jsonKey: 'password', raw: 'x' });
      // Assess
      expect(value).toBe('p4ss');
    });

    it('fails for a JSON key the secret does not have', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).resolves({ SecretString: '{"user":"u"}' });
      // Act
      const reading = provider.resolve({ source: 'secretsmanager', id: 'db', jsonKey: 'password', raw: 'x' });
      // Assess
      await expect(reading).rejects.toThrow('secret db has no key "password"');
    });

    it('reads an SSM parameter with decryption', async () => {
      // Prepare
      ssm.on(GetParameterCommand, { Name: '/ci/key', WithDecryption: true }).resolves({ Parameter: { Value: 'k' } });
      // Act
      const value = await provider.resolve({ source: 'ssm', id: '/ci/key', raw: 'x' });
      // Assess
      expect(value).toBe('k');
    });

    it('lets a missing secret fail (the agent names it SecretUnavailable)', async () => {
      // Prepare
      secretsManager.on(GetSecretValueCommand).rejects(new ResourceNotFoundException({ message: 'not found', $metadata: {} }));
      // Act
      const reading = provider.resolve({ source: 'secretsmanager', id: 'gone', raw: 'x' });
      // Assess
      await expect(reading).rejects.toThrow('not found');
    });
  });
});
