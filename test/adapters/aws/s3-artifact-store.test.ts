import { Readable } from 'node:stream';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import type { StoredObject } from '../../../functions/ports/artifact-store.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';

describe('Class: S3ArtifactStore', () => {
  let s3: RunningS3rver;
  let store: S3ArtifactStore;

  beforeAll(async () => {
    s3 = await startS3rver();
    store = new S3ArtifactStore(s3.client, s3.bucket);
  });
  afterAll(async () => {
    await s3.stop();
  });

  describe('Method: put / getText', () => {
    it('stores a string and reads it back as text', async () => {
      // Act
      await store.put('a/text.txt', 'hello', 'text/plain');
      // Assess
      expect(await store.getText('a/text.txt')).toBe('hello');
    });

    it('stores a stream body', async () => {
      // Act
      await store.put('a/stream.bin', Readable.from([Buffer.from('one '), Buffer.from('two')]));
      // Assess
      expect(await store.getText('a/stream.bin')).toBe('one two');
    });
  });

  describe('Method: get', () => {
    it('returns undefined for a missing key instead of throwing', async () => {
      // Act
      const body = await store.get('missing/nothing');
      const text = await store.getText('missing/nothing');
      // Assess
      expect(body).toBeUndefined();
      expect(text).toBeUndefined();
    });
  });

  describe('Method: list', () => {
    it('lists the objects under a prefix only, with their sizes', async () => {
      // Prepare
      const keys = Array.from({ length: 7 }, (_, i) => `many/${i}`);
      await Promise.all(keys.map((key) => store.put(key, 'xyz')));
      await store.put('other/x', 'x');
      // Act
      const listed: StoredObject[] = [];
      for await (const object of store.list('many/')) listed.push(object);
      // Assess
      expect(listed.map((o) => o.key).sort()).toEqual(keys);
      expect(listed.every((o) => o.size === 3)).toBe(true);
    });

    it('follows continuation tokens across pages', async () => {
      // Prepare: s3rver cannot mint continuation tokens on Node 22 (DES), so pages come from a mock S3
      const mock = mockClient(S3Client);
      mock
        .on(ListObjectsV2Command, { ContinuationToken: undefined })
        .resolves({ Contents: [{ Key: 'p/1', Size: 1 }], IsTruncated: true, NextContinuationToken: 't1' })
        .on(ListObjectsV2Command, { ContinuationToken: 't1' })
        .resolves({ Contents: [{ Key: 'p/2', Size: 2 }], IsTruncated: false });
      const paged = new S3ArtifactStore(new S3Client({ region: 'us-east-1' }), 'bucket');
      // Act
      const listed: StoredObject[] = [];
      for await (const object of paged.list('p/')) listed.push(object);
      mock.restore();
      // Assess
      expect(listed).toEqual([
        { key: 'p/1', size: 1 },
        { key: 'p/2', size: 2 },
      ]);
    });
  });
});
