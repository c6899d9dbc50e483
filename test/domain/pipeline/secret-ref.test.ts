import { describe, expect, it } from 'vitest';
import { parseSecretRef } from '../../../functions/domain/pipeline/secret-ref.js';

describe('Function: parseSecretRef', () => {
  it.each([
    ['secretsmanager:ci/token', { source: 'secretsmanager', id: 'ci/token' }],
    ['secretsmanager:ci/db#password', { source: 'secretsmanager', id: 'ci/db', jsonKey: 'password' }],
    [
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/db-AbCdEf#user',
      { source: 'secretsmanager', id: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci/db-AbCdEf', jsonKey: 'user' },
    ],
    ['ssm:/ci/npm-token', { source: 'ssm', id: '/ci/npm-token' }],
    ['ssm:plain_name', { source: 'ssm', id: 'plain_name' }],
    ['arn:aws:ssm:us-east-1:123456789012:parameter/ci/token', { source: 'ssm', id: 'arn:aws:ssm:us-east-1:123456789012:parameter/ci/token' }],
    ['arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x', { source: 'ssm', id: 'arn:aws-cn:ssm:cn-north-1:123456789012:parameter/x' }],
  ])('reads %s', (raw, expected) => {
    expect(parseSecretRef(raw)).toEqual({ ok: true, ref: { ...expected, raw } });
  });

  it.each([
    ['vault:x', 'is not a secret reference'],
    ['secretsmanager:', 'is not a valid Secrets Manager secret name'],
    ['secretsmanager:bad name', 'is not a valid Secrets Manager secret name'],
    ['secretsmanager:x#', 'has an empty or malformed #jsonKey'],
    ['ssm:', 'is not a valid SSM parameter name'],
    ['ssm:/a b', 'is not a valid SSM parameter name'],
    ['arn:aws:ssm:us-east-1:123:parameter/x', 'is not a valid SSM parameter ARN'],
    ['arn:aws:secretsmanager:us-east-1:123456789012:parameter/x', 'is not a valid Secrets Manager secret ARN'],
  ])('rejects %s: %s', (raw, why) => {
    // Act
    const result = parseSecretRef(raw);

    // Assess
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toBe(`${JSON.stringify(raw)} ${why}; expected a reference such as secretsmanager:NAME, secretsmanager:NAME#jsonKey, ssm:/param/name, arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME or arn:aws:ssm:REGION:ACCOUNT:parameter/NAME`);
  });
});
