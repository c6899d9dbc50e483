import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runLiveLog } from '../../functions/runner/live-log-container.js';
import { buildContainerStopped, followLiveLog } from '../../functions/runner/live-log.js';

let dir: string;
let logFile: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'live-log-'));
  logFile = join(dir, 'log.txt');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function collect(): { output: PassThrough; text: () => string; bytes: () => number } {
  const output = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { output, text: () => Buffer.concat(chunks).toString('latin1'), bytes: () => Buffer.concat(chunks).length };
}

describe('Function: followLiveLog (the live-log container of a Fargate task)', () => {
  it('prints a build’s 6 MiB of output capped at 1 MiB, head and tail, while the build writes it', async () => {
    // Prepare: a real writer, as the build container's `>> log.txt`
    const sink = collect();
    const writer = spawn('sh', ['-c', `echo FIRST >> ${logFile}; i=0; while [ $i -lt 6 ]; do head -c 1048576 /dev/zero | tr '\\000' 'x' >> ${logFile}; sleep 0.1; i=$((i+1)); done; echo; echo LAST >> ${logFile}`]);
    let stopped = false;
    writer.on('exit', () => (stopped = true));

    // Act
    const read = await followLiveLog({ logFile, output: sink.output, capBytes: 1024 * 1024, buildStopped: async () => stopped, pollMs: 50 });

    // Assess: everything was read, a bounded amount printed, both ends and the marker there
    expect(read).toBeGreaterThan(6 * 1024 * 1024);
    expect(sink.bytes()).toBeLessThan(1024 * 1024 + 600);
    expect(sink.text().slice(0, 40)).toMatch(/^FIRST/);
    expect(sink.text().trimEnd().endsWith('LAST')).toBe(true);
    expect(sink.text()).toMatch(/\[buildfarm: \d+ bytes of output left out here: the stage log is capped at 1 MiB/);
    expect(sink.text()).toContain('the log reached half its 1048576-byte cap');
  });

  it('passes a small log through whole, and ends when the build container stops', async () => {
    // Prepare
    writeFileSync(logFile, 'one\ntwo\n');
    const sink = collect();

    // Act
    await followLiveLog({ logFile, output: sink.output, buildStopped: async () => true, pollMs: 10 });

    // Assess
    expect(sink.text()).toBe('one\ntwo\n');
  });

  it('finishes at once, with what is there, when asked to stop (SIGTERM as the task stops)', async () => {
    // Prepare
    writeFileSync(logFile, 'partial\n');
    const sink = collect();
    let stop!: () => void;
    const stopRequested = new Promise<void>((resolve) => (stop = resolve));
    setTimeout(stop, 100);

    // Act
    const started = Date.now();
    await followLiveLog({ logFile, output: sink.output, buildStopped: async () => false, stopRequested, pollMs: 60_000 });

    // Assess
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(sink.text()).toBe('partial\n');
  });

  it('does not follow a link the build user left in the log’s place', async () => {
    // Prepare: the logs volume is the build user's; a link to a file the helper can read
    writeFileSync(join(dir, 'helper-only.txt'), 'HELPER-ONLY');
    symlinkSync(join(dir, 'helper-only.txt'), logFile);
    const sink = collect();

    // Act
    await followLiveLog({ logFile, output: sink.output, buildStopped: async () => true, pollMs: 10 });

    // Assess
    expect(sink.text()).not.toContain('HELPER-ONLY');
  });

  it('reads the build container’s state from the task metadata endpoint v4 shape', () => {
    expect(buildContainerStopped({ Containers: [{ Name: 'build', KnownStatus: 'RUNNING' }] })).toBe(false);
    expect(buildContainerStopped({ Containers: [{ Name: 'build', KnownStatus: 'STOPPED', ExitCode: 0 }] })).toBe(true);
    expect(buildContainerStopped({ Containers: [{ Name: 'fetch', KnownStatus: 'STOPPED' }] })).toBe(false);
    expect(buildContainerStopped(null)).toBe(false);
  });
});

describe('Function: runLiveLog', () => {
  it('prints nothing of a stage with secrets (CloudWatch cannot be masked), only a notice', async () => {
    // Prepare
    const sink = collect();

    // Act
    const code = await runLiveLog({ BUILDFARM_LOG_LIVE: 'false' }, sink.output);

    // Assess
    expect(code).toBe(0);
    expect(sink.text()).toContain('only to the stage log');
  });

  it('follows the log until the metadata endpoint says the build stopped', async () => {
    // Prepare: a metadata endpoint, as the ECS agent serves it (here a local HTTP server)
    const { createServer } = await import('node:http');
    let stopped = false;
    const server = createServer((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ Containers: [{ Name: 'build', KnownStatus: stopped ? 'STOPPED' : 'RUNNING' }] }));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as { port: number }).port;
    const sink = collect();
    setTimeout(() => (stopped = true), 300);

    // Act: the real LOG_FILE path is the task's; only the endpoint is local here
    try {
      const code = await runLiveLog({ BUILDFARM_LOG_LIVE: 'true', ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/x` }, sink.output);
      // Assess: it ended by itself once the build container was STOPPED
      expect(code).toBe(0);
      expect(stopped).toBe(true);
    } finally {
      server.close();
    }
  });
});
