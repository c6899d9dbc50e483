/**
 * The local farm's counted stores come from a few warm SDK clients (a fresh client's first
 * request costs 3 to 7 ms more), and each task's count is still exactly its own requests: the
 * count starts at zero when a task takes a client and stops when it gives it back.
 * Against s3rver through the AWS SDK.
 */
import { PassThrough } from 'node:stream';
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

  it('destroys a client its task closed while a request was still in flight, and lends the next task another', async () => {
    // Prepare: a task that gives up on an upload still sending (as a stage past its deadline does)
    const abandoned = stores.take();
    const body = new PassThrough();
    body.write('first part ');
    const upload = abandoned.store.put('counted/abandoned.txt', body).catch((error: unknown) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));

    // Act
    abandoned.close();
    const next = stores.take();
    body.end('and the rest');
    await upload;

    // Assess: the next task's count holds none of the abandoned upload's requests
    expect(next.client).not.toBe(abandoned.client);
    expect(next.requests()).toEqual({ put: 0, get: 0 });
    next.close();
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
