/**
 * StageCredentials' core with its real AWS adapters against moto_server (an S3, STS and
 * Secrets Manager we did not write): the grant record read from S3, AssumeRole with our
 * session policy and RoleSessionName, secrets read with GetSecretValue, and the system
 * secret refused by the ARN Secrets Manager answers with. moto checks request shapes,
 * not IAM (the policies are proven in test/aws/stage-credentials-iam.test.ts).
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AwsSecretsProvider } from '../../functions/adapters/aws/aws-secrets-provider.js';
import { S3TextReader } from '../../functions/adapters/aws/s3-text-reader.js';
import { StsStageSessionMinter } from '../../functions/adapters/aws/sts-stage-session-minter.js';
import { grantRecordKey, stageGrant } from '../../functions/domain/credentials/grant.js';
import { isSystemSecretArn } from '../../functions/domain/credentials/system-secrets.js';
import { grantTokenHash, issueStageAccess, type StageCredentialsDeps } from '../../functions/handlers/stage-credentials-core.js';
import { motoUnavailableReason, startMotoServer, type MotoServer } from '../support/twin/moto-server.js';

const unavailable = motoUnavailableReason();
if (unavailable) console.warn(`SKIPPED: StageCredentials on moto_server: ${unavailable}`);

describe.skipIf(unavailable !== undefined)('StageCredentials on moto_server', () => {
  let moto: MotoServer | undefined;
  let endpoint: string;
  const config = () => ({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
  const bucket = 'farm-bucket';
  const token = 'ab'.repeat(32);
  let webhookArn = '';
  let deps: StageCredentialsDeps;

  beforeAll(async () => {
    moto = await startMotoServer();
    endpoint = moto.endpoint;
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const sm = new SecretsManagerClient(config());
    await sm.send(new CreateSecretCommand({ Name: 'buildfarm/deploy-key', SecretString: 'deploy-value' }));
    webhookArn = (await sm.send(new CreateSecretCommand({ Name: 'buildfarm/webhook-secret', SecretString: 'hook' }))).ARN!;
    deps = {
      store: new S3TextReader(s3, bucket),
      minter: new StsStageSessionMinter(new STSClient(config()), 'arn:aws:iam::123456789012:role/StageAccessRole'),
      secrets: new AwsSecretsProvider(sm, new SSMClient(config()), (arn) => isSystemSecretArn(arn, [webhookArn])),
      bucketArn: `arn:aws:s3:::${bucket}`,
      // Empty here, so only the check after the read (on the ARN moto answers with) stands between the stage and the secret.
      systemSecretArns: [],
      now: Date.now,
    };
  }, 90_000);

  afterAll(async () => {
    await moto?.stop();
  });

  async function grantNaming(secrets: Record<string, { source: 'secretsmanager'; id: string; raw: string }>): Promise<void> {
    const grant = stageGrant({ buildId: 'b1', stage: { name: 'deploy', secrets }, secretsWithheld: false, now: Date.now(), lifetimeSeconds: 3600 });
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: grantRecordKey(grantTokenHash(token)), Body: JSON.stringify(grant) }));
  }

  it('mints a session with AssumeRole and returns the declared secret', async () => {
    await grantNaming({ DEPLOY_KEY: { source: 'secretsmanager', id: 'buildfarm/deploy-key', raw: 'secretsmanager:buildfarm/deploy-key' } });
    const access = await issueStageAccess({ grant: token }, deps);
    expect(access.credentials.accessKeyId).toMatch(/^ASIA/);
    expect(Date.parse(access.credentials.expiration)).toBeGreaterThan(Date.now());
    expect(access.secrets).toEqual([{ name: 'DEPLOY_KEY', ref: 'secretsmanager:buildfarm/deploy-key', value: 'deploy-value' }]);
  });

  it('refuses the webhook secret by the ARN Secrets Manager answers with, even named by its bare name under buildfarm/', async () => {
    await grantNaming({ HOOK: { source: 'secretsmanager', id: 'buildfarm/webhook-secret', raw: 'secretsmanager:buildfarm/webhook-secret' } });
    await expect(issueStageAccess({ grant: token }, deps)).rejects.toMatchObject({ name: 'SystemSecretRefused' });
  });

  it('answers GrantUnknown for a token without a record (S3 NoSuchKey, not an error)', async () => {
    await expect(issueStageAccess({ grant: 'cd'.repeat(32) }, deps)).rejects.toMatchObject({ name: 'GrantUnknown' });
  });
});
