import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startEmbeddedS3 } from '../../../functions/adapters/local/embedded-s3.js';

describe('Function: startEmbeddedS3', () => {
  let directory: string;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'embedded-s3-'));
  });

  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('serves the S3 protocol on 127.0.0.1 and keeps objects across a restart', async () => {
    // Prepare
    const first = await startEmbeddedS3(directory);
    await first.store.put('builds/b1/stages/build/artifacts/dist/hello.txt', 'Hello, farm!\n', 'text/plain');
    await first.close();
    // Act
    const second = await startEmbeddedS3(directory);
    const text = await second.store.getText('builds/b1/stages/build/artifacts/dist/hello.txt');
    const listed = [];
    for await (const object of second.store.list('builds/b1/')) listed.push(object);
    await second.close();
    // Assess
    expect(second.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(text).toBe('Hello, farm!\n');
    expect(listed).toEqual([{ key: 'builds/b1/stages/build/artifacts/dist/hello.txt', size: 13 }]);
  });
});
