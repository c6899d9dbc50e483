/**
 * The embedded S3 served from a worker thread (`buildfarm run`'s, issue 12's fixed overhead): the
 * same s3rver with the same patches as in-process, reached over HTTP. From the sources the worker
 * runs its TypeScript through tsx (farm-entry.ts), hence the generous timeouts.
 */
import { createServer } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedS3Thread } from '../../functions/local/embedded-s3-thread.js';

const SLOW = 60_000;

describe('Class: EmbeddedS3Thread', () => {
  let directory: string;
  let thread: EmbeddedS3Thread | undefined;

  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'embedded-s3-thread-'));
  });
  afterEach(async () => {
    await thread?.close();
    thread = undefined;
    await rm(directory, { recursive: true, force: true });
  });

  describe('Method: start', () => {
    it('serves the S3 protocol from its worker with the farm\'s patches, in s3rver\'s own file layout', async () => {
      // Prepare
      thread = EmbeddedS3Thread.load();
      // Act
      const s3 = await thread.start(join(directory, 's3'));
      await s3.store.put('builds/b1/log.txt', '0123456789abcdefghij', 'text/plain');
      const read = await s3.store.read!('builds/b1/log.txt', { suffix: 5 });
      const chunks: Buffer[] = [];
      if (read !== undefined && read !== 'unsatisfiable') for await (const chunk of read.body) chunks.push(Buffer.from(chunk as Buffer));
      await s3.close();
      // Assess: the suffix range is the patch's answer (s3rver alone gives the first 6 bytes)
      expect(s3.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(Buffer.concat(chunks).toString()).toBe('fghij');
      expect(await readdir(join(directory, 's3', 'buildfarm-local', 'builds', 'b1'))).toContain('log.txt._S3rver_object');
    }, SLOW);

    it('keeps the objects for the next start, as the in-process server does', async () => {
      // Prepare
      const first = EmbeddedS3Thread.load();
      const s3 = await first.start(directory);
      await s3.store.put('report.json', '{}');
      await s3.close();
      // Act
      thread = EmbeddedS3Thread.load();
      const again = await thread.start(directory);
      // Assess
      expect(await again.store.getText('report.json')).toBe('{}');
    }, SLOW);

    it('rejects with the reason when the server cannot start (its port is taken)', async () => {
      // Prepare: a port in use on 127.0.0.1
      const blocker = createServer();
      await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
      const port = (blocker.address() as { port: number }).port;
      thread = EmbeddedS3Thread.load();
      try {
        // Act
        const attempt = thread.start(directory, { port });
        // Assess
        await expect(attempt).rejects.toThrow(/the embedded S3 did not start: .*EADDRINUSE/);
        await expect(attempt).rejects.toMatchObject({ name: 'EmbeddedS3ThreadFailed', code: 'EADDRINUSE' });
      } finally {
        blocker.close();
      }
    }, SLOW);
  });

  describe('Method: close', () => {
    it('ends a thread whose server never started (a run that stopped early), and may be called again', async () => {
      // Prepare
      const loaded = EmbeddedS3Thread.load();
      // Act
      await loaded.close();
      await loaded.close();
      // Assess: starting now is refused, not left waiting on a thread that is gone
      await expect(loaded.start(directory)).rejects.toThrow(/thread/);
    }, SLOW);
  });
});
