/**
 * A stage that prints faster than its log can be written (a slow disk, or on Lambda a
 * stdout that CloudWatch drains slowly) must wait on its pipe, not have its output
 * queued in the agent's memory (issue 11: the build process grew with output).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import { StageLog } from '../../functions/runner/stage-log.js';

const KiB = 1024;

/** A live output that takes 64 KiB per 5 ms, and remembers the most it ever had queued. */
class SlowOutput extends Writable {
  received = 0;
  mostQueued = 0;
  constructor() {
    super({ highWaterMark: 64 * KiB });
  }
  override write(chunk: Buffer | string, ...rest: never[]): boolean {
    const ready = super.write(chunk, ...rest);
    this.mostQueued = Math.max(this.mostQueued, this.writableLength);
    return ready;
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.received += chunk.length;
    setTimeout(callback, 5);
  }
}

describe('Class: StageLog, back-pressure', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-log-bp-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pauses a command that prints faster than its live output takes it, instead of queueing its output', async () => {
    // Prepare: 4 MiB printed at once, far under the cap
    const output = new SlowOutput();
    const log = new StageLog(join(dir, 'log.txt'), output, ['s3cr3t']);
    // Act
    const outcome = await runCommand(
      "head -c 4194304 /dev/zero | tr '\\0' x",
      { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log, deadline: Date.now() + 120_000, now: Date.now, diskRoot: dir },
      new ResourcePeaks(),
    );
    await log.close();
    await new Promise<void>((resolve) => output.end(resolve));
    // Assess: all of it arrived, in the file and live, and never more than a few chunks waited in memory
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    expect(readFileSync(join(dir, 'log.txt')).length).toBe(4 * 1024 * KiB);
    expect(output.received).toBe(4 * 1024 * KiB);
    expect(output.mostQueued).toBeLessThan(512 * KiB);
  });
});
