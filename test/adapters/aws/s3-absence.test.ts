/**
 * Absence on S3 as a caller like the farm's roles sees it: s3rver behind a proxy that answers as
 * S3 does for the caller's policy (test/support/s3-access-rules-proxy.ts), 403 for a missing key
 * without an unconditioned s3:ListBucket.
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HelperBundleStore } from '../../../functions/adapters/aws/helper-bundle-store.js';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { S3HistoryStore } from '../../../functions/adapters/s3-history-store.js';
import { startS3AccessRulesProxy, type CallerPolicy, type S3AccessRulesProxy } from '../../support/s3-access-rules-proxy.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';

/** The runner roles' shape: objects and listing under builds/ only, ListBucket conditioned on s3:prefix. */
const RUNNER: CallerPolicy = { objects: ['builds/*'], listBucket: ['builds/*'] };
/** The control plane after this fix: plain ListBucket on the bucket. */
const CONTROL_PLANE: CallerPolicy = { objects: ['builds/*', 'history/*', 'helpers/*'], listBucket: 'unconditioned' };
/** The control plane before: ListBucket conditioned on s3:prefix, which a GetObject does not carry. */
const CONTROL_PLANE_BEFORE: CallerPolicy = { objects: ['builds/*', 'history/*', 'helpers/*'], listBucket: ['builds/*', 'history/*', 'helpers/*'] };
/** A role that may read objects but not list at all. */
const NO_LIST: CallerPolicy = { objects: ['builds/*'], listBucket: [] };

describe('S3 absence under the farm\'s IAM shapes (403 for a missing key without ListBucket)', () => {
  let s3: RunningS3rver;
  const proxies: S3AccessRulesProxy[] = [];
  const storeFor = async (policy: CallerPolicy) => {
    const proxy = await startS3AccessRulesProxy(s3.endpoint, s3.bucket, policy);
    proxies.push(proxy);
    return { store: new S3ArtifactStore(proxy.client, s3.bucket), client: proxy.client };
  };

  beforeAll(async () => {
    s3 = await startS3rver();
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'builds/b1/plan.json', Body: '{"ok":true}' }));
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'secrets/other.json', Body: 'no' }));
  });
  afterAll(async () => {
    for (const proxy of proxies) await proxy.close();
    await s3.stop();
  });

  it('a runner-shaped role reads a missing key under its prefix as absent, and an existing one as text', async () => {
    const { store } = await storeFor(RUNNER);
    expect(await store.getText('builds/b1/stages/x/result.json')).toBeUndefined();
    expect(await store.getText('builds/b1/plan.json')).toBe('{"ok":true}');
  });

  it('a real AccessDenied stays an error: a key outside what the role may read, existing or not', async () => {
    const { store } = await storeFor(RUNNER);
    await expect(store.getText('secrets/other.json')).rejects.toMatchObject({ name: 'AccessDenied' });
    await expect(store.getText('secrets/missing.json')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('a role that may not list at all cannot tell: the 403 stays an error rather than a guess', async () => {
    const { store } = await storeFor(NO_LIST);
    await expect(store.getText('builds/b1/missing.json')).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('the control plane reads history on a repository\'s first build, a missing run.json and helpers/ after a deploy as absent', async () => {
    const { store, client } = await storeFor(CONTROL_PLANE);
    expect(await new S3HistoryStore(store).loadHistory('octo/app', ['build'])).toEqual({});
    expect(await store.getText('builds/b1/stages/build/run.json')).toBeUndefined();
    await new HelperBundleStore(client, s3.bucket).ensure('helpers/abc.js', Buffer.from('code'));
    expect(await store.getText('helpers/abc.js')).toBe('code');
  });

  it('before the fix the control plane could not read its history on a first build (the prefix condition does not count)', async () => {
    // The same reads, with the old ListBucket condition and the old NoSuchKey-only check, fail with 403.
    const { client } = await storeFor(CONTROL_PLANE_BEFORE);
    const error = await client.send(new (await import('@aws-sdk/client-s3')).GetObjectCommand({ Bucket: s3.bucket, Key: 'history/octo/app/build.json' })).catch((e: Error) => e);
    expect((error as Error).name).toBe('AccessDenied');
  });
});
