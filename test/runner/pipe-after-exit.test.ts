/**
 * What a command printed before it exited reaches the log even when the log is far behind at
 * its exit (a saturated disk, a slow live output): the wait for its pipes after the exit counts
 * only the time the log is ready to take more. A pipe held open by something the command left
 * running still ends the wait (no stage holds the agent forever).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import { StageLog } from '../../functions/runner/stage-log.js';

const KiB = 1024;

/** A live output (a saturated disk alike) that queues up to 256 KiB and takes 64 KiB per 750 ms: 3 s to drain a full queue. */
class SlowSink extends Writable {
  received = 0;
  constructor() {
    super({ highWaterMark: 256 * KiB });
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.received += chunk.length;
    setTimeout(callback, (chunk.length / (64 * KiB)) * 750);
  }
}

describe('Function: runCommand, the output pipes after the command exits', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pipe-after-exit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function run(command: string, output: NodeJS.WritableStream) {
    const log = new StageLog(join(dir, 'log.txt'), output);
    const startedAt = Date.now();
    const outcome = await runCommand(
      command,
      { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log, deadline: Date.now() + 120_000, now: Date.now, diskRoot: dir },
      new ResourcePeaks(),
    );
    const waitedMs = Date.now() - startedAt;
    await log.close();
    return { outcome, waitedMs, file: readFileSync(join(dir, 'log.txt')) };
  }

  it('keeps the last bytes a command printed when the log is over 2 s behind at its exit', async () => {
    // Prepare: 320 KiB fill the sink's queue (the command's pipe is paused) and leave 64 KiB in the pipe; then
    // 16 KiB and a last line join them, and the command exits with over 3 s of output queued before them
    const sink = new SlowSink();
    const command = "head -c 327680 /dev/zero | tr '\\0' x; sleep 0.3; head -c 16384 /dev/zero | tr '\\0' y; echo; echo LAST-LINE";
    // Act
    const { outcome, file } = await run(command, sink);
    await new Promise<void>((resolve) => sink.end(resolve));
    // Assess
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(file.length).toBe(327680 + 16384 + 1 + 'LAST-LINE\n'.length);
    expect(file.subarray(-10).toString()).toBe('LAST-LINE\n');
    expect(sink.received).toBe(file.length);
  }, 60_000);

  it('stops waiting about 2 s after the exit for a pipe that a process outside the stage still holds', { timeout: 60_000, retry: 2 }, async () => {
    // Prepare: a holder of the command's stdout that leaves its tree (a subshell that exits) and its process group (setsid)
    const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
    // (The agent kills what it saw in the tree: a sample taken in the millisecond the holder is still a descendant
    // catches it, hence the retries.)
    const command = 'echo started; sleep 0.5; (setsid sleep 30 & echo $! > holder.pid); sleep 0.3';
    try {
      // Act
      const { outcome, waitedMs, file } = await run(command, sink);
      // Assess: the wait ended about 2 s after the exit, with the holder still there
      expect(readFileSync(`/proc/${holderPid()}/stat`, 'utf8')).toMatch(/^\d+ \(sleep\) S /);
      expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
      expect(file.toString()).toBe('started\n');
      expect(waitedMs).toBeGreaterThan(2_000);
      expect(waitedMs).toBeLessThan(6_000);
    } finally {
      if (existsSync(join(dir, 'holder.pid'))) process.kill(holderPid(), 'SIGKILL');
    }
  });

  function holderPid(): number {
    return Number(readFileSync(join(dir, 'holder.pid'), 'utf8'));
  }
});
