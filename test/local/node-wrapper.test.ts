import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServe, type ServeProcess } from './support/serve-process.js';

/** A Node older than 22 on the machine (CI's system Node 20): `bin/buildfarm.mjs` then re-runs itself on the bundled Node 22. */
function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const major = Number(execFileSync(candidate, ['-p', 'process.versions.node.split(".")[0]'], { encoding: 'utf8' }).trim());
    if (major < 22) return candidate;
  }
  return undefined;
}

const node = olderNode();
if (node === undefined) console.warn('SKIPPED: the Node-wrapper test needs a system Node older than 22 (CI has Node 20)');

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(node === undefined)('bin/buildfarm.mjs on an older Node (the wrapper)', () => {
  let serve: ServeProcess | undefined;
  let directory: string | undefined;
  let farmPid = 0;
  afterEach(async () => {
    await serve?.stop('SIGKILL');
    // Never leave an orphaned farm behind, even when the behaviour under test is broken.
    if (farmPid > 0 && alive(farmPid)) process.kill(farmPid, 'SIGKILL');
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('the Node 22 farm stops by itself, freeing its port, when the wrapper is killed with SIGKILL', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'wrapper-'));
    serve = await startServe(['--port', '0', '--data-dir', directory], {}, node);
    [farmPid] = childrenOf(serve.child.pid!);
    expect(farmPid).toBeGreaterThan(0);
    // Act: kill -9 of the wrapper: nothing can be forwarded
    serve.child.kill('SIGKILL');
    await serve.exited;
    // Assess
    await expect.poll(() => alive(farmPid), { timeout: 15_000, interval: 200 }).toBe(false);
    await expect(fetch(`${serve.url}/api/farm`)).rejects.toThrow();
  }, 60_000);
});
