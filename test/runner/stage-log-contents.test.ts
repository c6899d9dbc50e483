/**
 * On Lambda a stage's commands share the agent's uid and /tmp: by the time the log is
 * uploaded they may have replaced its path with a FIFO (the upload would block until
 * Lambda's timeout) or grown the file's inode far past the cap. The stored log is what the
 * agent wrote, read through the descriptor it opened before any command ran.
 */
import { execFileSync } from 'node:child_process';
import { truncateSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageLog } from '../../functions/runner/stage-log.js';

const quiet = () => new Writable({ write: (_chunk, _encoding, callback) => callback() });

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

describe('Method: StageLog.contents', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'stage-log-contents-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('defends against the log path replaced by a FIFO: the written log is read, nothing blocks', async () => {
    // Prepare
    const path = join(directory, 'log.txt');
    const log = new StageLog(path, quiet());
    log.line('hello from the agent');
    await log.close();
    await rm(path);
    execFileSync('mkfifo', [path]);

    // Act
    const text = await readAll(log.contents());
    log.release();

    // Assess
    expect(text).toBe('hello from the agent\n');
  });

  it('defends against the log file grown by a truncate of the same inode: only the bytes the agent wrote go', async () => {
    // Prepare
    const path = join(directory, 'log.txt');
    const log = new StageLog(path, quiet());
    log.line('two lines');
    log.line('of log');
    await log.close();
    truncateSync(path, 64 * 1024 * 1024);

    // Act
    const text = await readAll(log.contents());
    log.release();

    // Assess
    expect(text).toBe('two lines\nof log\n');
  });

  it('refuses to open a log path that is already a link (one planted before the log is made)', async () => {
    // Prepare
    const path = join(directory, 'log.txt');
    execFileSync('ln', ['-s', '/etc/hostname', path]);

    // Act, Assess
    expect(() => new StageLog(path, quiet())).toThrow(/ELOOP|symbolic link/);
  });
});
