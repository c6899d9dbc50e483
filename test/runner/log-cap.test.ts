import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HeadTailCap, MIN_LOG_CAP_BYTES } from '../../functions/runner/log-cap.js';
import { ResourcePeaks, runCommand } from '../../functions/runner/run-command.js';
import { StageLog } from '../../functions/runner/stage-log.js';
import { CapturedOutput } from '../support/stages.js';

const KiB = 1024;

describe('Class: HeadTailCap', () => {
  it('passes output through untouched while it fits, and adds nothing at the end', () => {
    // Prepare
    const cap = new HeadTailCap(MIN_LOG_CAP_BYTES);
    // Act
    const { now, justOverflowed } = cap.take(Buffer.from('hello\n'));
    // Assess
    expect(now.toString()).toBe('hello\n');
    expect(justOverflowed).toBe(false);
    expect(cap.finish()).toEqual([]);
  });

  it('keeps the first and the last half of the cap and counts exactly what it left out', () => {
    // Prepare: 1,000 numbered 100-byte lines through a 64 KiB cap.
    const cap = new HeadTailCap(64 * KiB);
    const lines = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(6, '0')} ${'x'.repeat(92)}\n`);
    // Act
    const written = lines.map((line) => cap.take(Buffer.from(line)).now);
    const end = Buffer.concat(cap.finish()).toString();
    // Assess
    const head = Buffer.concat(written).toString();
    expect(head.length).toBe(32 * KiB);
    expect(head.startsWith('000000 ')).toBe(true);
    expect(end.endsWith(lines[999])).toBe(true);
    const tail = end.slice(end.indexOf(']\n') + 2);
    expect(tail.length).toBe(32 * KiB);
    expect(cap.droppedBytes).toBe(100_000 - 64 * KiB);
    expect(end).toContain(`${100_000 - 64 * KiB} bytes of output left out here: the stage log is capped at 64 KiB`);
  });

  it('keeps exactly the first and the last half of any output, however it is chunked', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 * KiB }), { maxLength: 12 }), (sizes) => {
        // Prepare: numbered bytes, so a misplaced byte shows
        const cap = new HeadTailCap(64 * KiB);
        const chunks = sizes.map((size, i) => Buffer.alloc(size, i % 251));
        const all = Buffer.concat(chunks);
        // Act
        const head = Buffer.concat(chunks.map((chunk) => cap.take(chunk).now));
        const dropped = cap.droppedBytes;
        const end = cap.finish();
        // Assess
        const headBytes = Math.min(all.length, 32 * KiB);
        expect(head.equals(all.subarray(0, headBytes))).toBe(true);
        const rest = all.subarray(headBytes);
        const tail = rest.subarray(Math.max(0, rest.length - 32 * KiB));
        expect(dropped).toBe(rest.length - tail.length);
        const tailOut = Buffer.concat(dropped > 0 ? end.slice(1) : end);
        expect(tailOut.equals(tail)).toBe(true);
      }),
    );
  });

  it('holds the tail in one buffer of half the cap, never a copy per chunk nor of the whole tail', () => {
    // Prepare: 16 MiB through a 1 MiB cap, in 64 KiB chunks (a pipe's reads)
    const cap = new HeadTailCap(1024 * KiB);
    const chunk = Buffer.alloc(64 * KiB, 'y');
    // Act
    for (let i = 0; i < 256; i += 1) cap.take(chunk);
    const held = cap.heldBytes;
    const end = cap.finish();
    // Assess: the marker, then slices of one ring buffer of 512 KiB
    expect(held).toBe(512 * KiB);
    const slices = end.slice(1);
    expect(slices.reduce((sum, part) => sum + part.length, 0)).toBe(512 * KiB);
    expect(new Set(slices.map((part) => part.buffer)).size).toBe(1);
    expect(slices[0]!.buffer.byteLength).toBe(512 * KiB);
  });

  it('refuses a cap too small to hold a useful head and tail', () => {
    expect(() => new HeadTailCap(1000)).toThrow(/at least 65536 bytes/);
  });
});

describe('Class: StageLog with a cap', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'log-cap-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('stores at most the cap (plus one marker line) of a command that prints 3 MB, with its start and its end', async () => {
    // Prepare
    const output = new CapturedOutput();
    const log = new StageLog(join(dir, 'log.txt'), output, [], { capBytes: 256 * KiB });
    const command = 'echo FIRST-LINE; i=0; while [ $i -lt 30000 ]; do echo "line $i ............................................................................................"; i=$((i+1)); done; echo LAST-LINE';
    // Act
    const outcome = await runCommand(command, { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, log, deadline: Date.now() + 60_000, now: Date.now, diskRoot: dir }, new ResourcePeaks());
    await log.close();
    // Assess
    expect(outcome).toEqual({ kind: 'exited', exitCode: 0 });
    const stored = readFileSync(join(dir, 'log.txt'), 'utf8');
    expect(stored.length).toBeLessThan(256 * KiB + 200);
    expect(stored.startsWith('FIRST-LINE\n')).toBe(true);
    expect(stored.endsWith('LAST-LINE\n')).toBe(true);
    expect(stored).toMatch(/\[buildfarm: \d+ bytes of output left out here: the stage log is capped at 256 KiB/);
    expect(log.droppedBytes).toBeGreaterThan(2_500_000);
    // The live output (CloudWatch Logs on AWS) is capped the same way, plus one note when the head fills.
    expect(output.text.length).toBeLessThan(256 * KiB + 400);
    expect(output.text).toContain('further output is held back');
  });
});
