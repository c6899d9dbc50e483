/**
 * The local farm's counted stores come from a few warm SDK clients (a fresh client's first
 * request costs 3 to 7 ms more), and each task's count is still exactly its own requests: the
 * count starts at zero when a task takes a client and stops when it gives it back.
 * Against s3rver through the AWS SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountedS3rverStores } from '../../../functions/adapters/local/counted-store.js';
import { startS3rver, type RunningS3rver } from '../../support/s3rver.js';

describe('CountedS3rverStores', () => {
  let s3: RunningS3rver;
  let stores: CountedS3rverStores;

  beforeAll(async () => {
    s3 = await startS3rver();
    stores = new CountedS3rverStores(s3.endpoint, s3.bucket);
  });
  afterAll(async () => {
    await s3.stop();
  });

  it('gives a closed store\'s client to the next task, whose count starts at zero; the first count stops at its close', async () => {
    // Prepare
    const first = stores.take();
    await first.store.put('counted/a.txt', 'a');
    await first.store.getText('counted/a.txt');
    await first.store.getText('counted/missing.txt');
    first.close();

    // Act
    const second = stores.take();
    await second.store.getText('counted/a.txt');

    // Assess
    expect(second.client).toBe(first.client);
    expect(second.requests()).toEqual({ put: 0, get: 1 });
    expect(first.requests()).toEqual({ put: 1, get: 2 });
    second.close();
  });

  it('never gives one client to two tasks at once', async () => {
    // Act
    const one = stores.take();
    const two = stores.take();
    await Promise.all([one.store.put('counted/one.txt', '1'), two.store.put('counted/two.txt', '2')]);

    // Assess
    expect(two.client).not.toBe(one.client);
    expect(one.requests()).toEqual({ put: 1, get: 0 });
    expect(two.requests()).toEqual({ put: 1, get: 0 });
    one.close();
    two.close();
  });
});
