import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, ftruncateSync, openSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ArtifactStore } from '../../../functions/adapters/aws/s3-artifact-store.js';
import { reopenableFile, type StoredObject } from '../../../functions/ports/artifact-store.js';
import { readFileFromStart } from '../../../functions/runner/file-from-start.js';
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

  describe('Method: put, a file', () => {
    it('sends a reopenable file as one PutObject read from disk, with no multipart parts held in memory', async () => {
      // Prepare: 20 MiB, more than two 8 MiB parts; record the commands the client sends
      const directory = await mkdtemp(join(tmpdir(), 's3-put-file-'));
      const path = join(directory, 'log.txt');
      const content = randomBytes(20 * 1024 * 1024);
      await writeFile(path, content);
      const commands: string[] = [];
      s3.client.middlewareStack.add((next, context) => (args) => (commands.push(context.commandName as string), next(args)), { step: 'initialize', name: 'recordCommands' });
      try {
        // Act
        const fd = openSync(path, 'r');
        try {
          await store.put('a/log.txt', reopenableFile(readFileFromStart(fd, content.length), () => readFileFromStart(fd, content.length), content.length), 'text/plain');
        } finally {
          closeSync(fd);
        }
      } finally {
        s3.client.middlewareStack.remove('recordCommands');
        await rm(directory, { recursive: true, force: true });
      }
      // Assess
      expect(commands).toEqual(['PutObjectCommand']);
      const stored = await store.get('a/log.txt');
      const hash = createHash('sha256');
      for await (const chunk of stored!) hash.update(chunk as Buffer);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(content).digest('hex'));
    });

    it('sends the file again, read afresh, when the connection is cut (the SDK never retries a streamed body)', async () => {
      // Prepare
      const directory = await mkdtemp(join(tmpdir(), 's3-put-file-'));
      const path = join(directory, 'log.txt');
      await writeFile(path, 'the log\n');
      const mock = mockClient(S3Client);
      mock.on(PutObjectCommand).rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })).resolves({});
      const retrying = new S3ArtifactStore(new S3Client({ region: 'us-east-1' }), 'bucket');
      try {
        // Act
        const fd = openSync(path, 'r');
        try {
          await retrying.put('a/log.txt', reopenableFile(readFileFromStart(fd, 8), () => readFileFromStart(fd, 8), 8), 'text/plain');
        } finally {
          closeSync(fd);
        }
      } finally {
        mock.restore();
        await rm(directory, { recursive: true, force: true });
      }
      // Assess: two attempts, each with a stream of its own and the file's length
      const calls = mock.commandCalls(PutObjectCommand);
      expect(calls).toHaveLength(2);
      expect(calls[0]!.args[0].input.Body).not.toBe(calls[1]!.args[0].input.Body);
      expect(calls.map((call) => call.args[0].input.ContentLength)).toEqual([8, 8]);
    });
  });

  describe('Method: put, a reopenable file replaced under its path', () => {
    it('defends against a stage replacing the log: it sends what was written, through the descriptor, not a FIFO or a grown file at the path', async () => {
      // Prepare: the log as written (opened before), then the path replaced by a FIFO and the inode grown
      const directory = await mkdtemp(join(tmpdir(), 's3-put-file-'));
      const path = join(directory, 'log.txt');
      await writeFile(path, 'what the agent wrote\n');
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, 512 * 1024 * 1024);
        await rm(path);
        execFileSync('mkfifo', [path]);
        // Act
        await store.put('a/replaced.txt', reopenableFile(readFileFromStart(fd, 21), () => readFileFromStart(fd, 21), 21), 'text/plain');
      } finally {
        closeSync(fd);
        await rm(directory, { recursive: true, force: true });
      }
      // Assess
      expect(await store.getText('a/replaced.txt')).toBe('what the agent wrote\n');
    });
  });

  describe('Method: put, a plain file stream', () => {
    it('never opens a file stream again by its path unless it is marked reopenable (a stream opened with O_NOFOLLOW stays as it was opened)', async () => {
      // Prepare
      const directory = await mkdtemp(join(tmpdir(), 's3-put-file-'));
      const path = join(directory, 'log.txt');
      await writeFile(path, randomBytes(9 * 1024 * 1024));
      const commands: string[] = [];
      s3.client.middlewareStack.add((next, context) => (args) => (commands.push(context.commandName as string), next(args)), { step: 'initialize', name: 'recordCommands' });
      try {
        // Act
        await store.put('a/plain.txt', createReadStream(path));
      } finally {
        s3.client.middlewareStack.remove('recordCommands');
        await rm(directory, { recursive: true, force: true });
      }
      // Assess: the stream itself, through multipart
      expect(commands).toContain('CreateMultipartUploadCommand');
      expect(commands).not.toContain('PutObjectCommand');
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
