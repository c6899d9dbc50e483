/**
 * The local sandbox's network, for real: bubblewrap plus slirp4netns as the farm starts
 * them (launchCommand with the probed settings). A stage reaches the world through
 * slirp4netns's NAT, never the host's loopback (where the farm's own S3 listens).
 * Skipped where bwrap or slirp4netns is missing (CI installs both).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeStageSandbox } from '../../functions/local/sandbox-probe.js';
import { launchCommand } from '../../functions/runner/launch-command.js';

const sandbox = probeStageSandbox({ dataDirectory: tmpdir() });
const usable = sandbox.kind === 'bubblewrap' && sandbox.network.kind === 'slirp4netns';
/** A non-loopback address of this machine: what a stage's request to "another host" reaches here. */
const hostAddress = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe.skipIf(!usable || !hostAddress)('The local sandbox’s network (bubblewrap + slirp4netns, sandboxed and seccomp-filtered)', () => {
  let server: Server;
  let port: number;
  let root: string;
  beforeAll(async () => {
    server = createServer((_request, response) => response.end('reached'));
    server.listen(0, '0.0.0.0');
    await once(server, 'listening');
    port = (server.address() as { port: number }).port;
    root = mkdtempSync(join(tmpdir(), 'sandbox-network-'));
  });
  afterAll(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function inSandbox(command: string): Promise<{ code: number | null; output: string }> {
    const directories = { workspace: join(root, 'workspace'), home: join(root, 'home'), tmp: join(root, 'tmp') };
    for (const dir of Object.values(directories)) mkdirSync(dir, { recursive: true });
    const warnings: string[] = [];
    const launched = await launchCommand(command, {
      cwd: directories.workspace,
      env: { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: directories.home },
      sandbox: { settings: sandbox, directories },
      marker: `sandbox-network-${process.pid}`,
      warn: (text) => warnings.push(text),
    });
    let output = '';
    launched.child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    launched.child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const [code] = (await once(launched.child, 'exit')) as [number | null];
    await launched.release();
    return { code, output: output + warnings.join('') };
  }

  it('reaches a server on another address through the NAT', async () => {
    const run = await inSandbox(`curl -sS --max-time 10 http://${hostAddress}:${port}/`);
    expect(run.output).toContain('reached');
    expect(run.code).toBe(0);
  });

  it('cannot reach the host’s loopback, where the farm’s S3 listens', async () => {
    const run = await inSandbox(`curl -sS --max-time 5 http://10.0.2.2:${port}/ || echo refused; curl -sS --max-time 5 http://127.0.0.1:${port}/ || echo refused-too`);
    expect(run.output).not.toContain('reached');
    expect(run.output).toContain('refused');
    expect(run.output).toContain('refused-too');
  });
});
