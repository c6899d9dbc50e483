/**
 * Issue 11, "bounded memory under hostile load": 150 concurrent 25 MiB bodies
 * with no valid signature (3.75 GiB in all) sent to the farm's webhook. Before
 * the streaming intake this took the farm to 3.6 GB RSS, where it stayed. The
 * farm runs in a process of its own; its RSS is read from /proc/<pid>/status
 * before, during (sampled every 100 ms) and after the load (after a full GC).
 * The figures are printed, and docs/performance.md keeps the last ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { withMallocTuning } from '../../bin/malloc-tuning.mjs';

const MiB = 1024 * 1024;
const BODIES = 150;
const BODY_BYTES = 25 * MiB;
/** How far above its idle RSS the farm may stay once the load is over and garbage collected. */
const SETTLE_MIB = 64;

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

/** One POST of `length` bytes, written from one shared buffer; resolves with the status (-1: the farm cut the connection). */
function flood(url: string, signature: string | undefined, chunk: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(BODY_BYTES), 'x-github-event': 'push', 'x-github-delivery': crypto.randomUUID() };
    if (signature !== undefined) headers['x-hub-signature-256'] = signature;
    const request = httpRequest(`${url}/webhook`, { method: 'POST', headers }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', () => resolve(-1));
    });
    request.on('error', () => resolve(-1));
    let sent = 0;
    const write = () => {
      while (sent < BODY_BYTES) {
        sent += chunk.length;
        if (!request.write(chunk)) return void request.once('drain', write);
      }
      request.end();
    };
    write();
  });
}

describe('Hostile: 150 x 25 MiB bodies without a valid signature', { timeout: 240_000 }, () => {
  let farm: ChildProcess | undefined;

  afterEach(() => {
    farm?.kill('SIGKILL');
    farm = undefined;
  });

  it('defends against unsigned bodies flooding memory: RSS stays bounded during the load and comes back down after it', async () => {
    // Prepare: the farm in its own process
    const script = fileURLToPath(new URL('./support/rss-farm-process.ts', import.meta.url));
    // With glibc's malloc set as bin/buildfarm.mjs sets it for the farm (bin/malloc-tuning.mjs).
    farm = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'], env: withMallocTuning(process.env) });
    let output = '';
    farm.stdout!.setEncoding('utf8').on('data', (text: string) => (output += text));
    await expect.poll(() => /http:\/\/127\.0\.0\.1:\d+/.test(output), { timeout: 60_000, interval: 100 }).toBe(true);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(output)![0];
    const pid = farm.pid!;
    const gc = async () => {
      const before = output.split('gc').length;
      farm!.kill('SIGUSR2');
      await expect.poll(() => output.split('gc').length, { timeout: 10_000, interval: 50 }).toBeGreaterThan(before);
    };
    await gc();
    const before = rssMiB(pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMiB(pid)), 100);

    // Act: half with no signature header, half with a forged one (hashed as it streams in)
    const chunk = Buffer.alloc(MiB, 0x7b);
    const started = performance.now();
    const statuses = await Promise.all(
      Array.from({ length: BODIES }, (_, i) => flood(url, i % 2 === 0 ? undefined : `sha256=${'ab'.repeat(32)}`, chunk)),
    );
    const seconds = (performance.now() - started) / 1000;
    clearInterval(sampler);
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // V8 frees ArrayBuffers' memory on a background thread after a GC: the lowest of a few GCs.
    let after = Infinity;
    for (let i = 0; i < 6 && after >= before + SETTLE_MIB; i += 1) {
      await gc();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      after = Math.min(after, rssMiB(pid));
    }
    const peak = Math.max(before, ...samples);
    const probe = await fetch(`${url}/api/builds`);

    // Assess
    console.log(`unsigned load: ${BODIES} x 25 MiB in ${seconds.toFixed(1)} s; farm RSS before ${before.toFixed(0)} MiB, peak during ${peak.toFixed(0)} MiB, after (3 s + GC) ${after.toFixed(0)} MiB; statuses ${JSON.stringify(countBy(statuses))}`);
    expect(statuses.every((status) => status === 401 || status === 503 || status === 413 || status === -1)).toBe(true);
    expect(probe.status).toBe(200);
    // The in-flight ceiling is 64 MiB by default: peak well under the 3.6 GB seen before.
    expect(peak).toBeLessThan(before + 400);
    // Back down: without bin/malloc-tuning.mjs about 100 MiB of the peak stayed in glibc's heap after
    // a full GC (freed, never returned); with it, measured +29 to +59 MiB after one GC.
    expect(after).toBeLessThan(before + SETTLE_MIB);
  });
});

function countBy(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}
