/**
 * The farm asks glibc to give freed memory back (bin/malloc-tuning.mjs): without it, 100 MiB
 * stayed in the farm's heap after a flood of webhook bodies (issue 11, "RSS comes back down").
 * glibc reads the setting only when a process starts, so bin/buildfarm.mjs re-executes itself
 * with it: the farm process must carry it, under the pid that was started.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isLongRunning, MALLOC_TUNING, withMallocTuning } from '../../bin/malloc-tuning.mjs';
import { startServe, type ServeProcess } from './support/serve-process.js';

describe('Function: withMallocTuning', () => {
  it('adds the mmap threshold on Linux', () => {
    expect(withMallocTuning({ PATH: '/bin' }, 'linux')).toEqual({ PATH: '/bin', MALLOC_MMAP_THRESHOLD_: '8192' });
  });

  it("leaves the user's own malloc settings, and other systems, as they are", () => {
    expect(withMallocTuning({ MALLOC_MMAP_THRESHOLD_: '131072' }, 'linux')).toEqual({ MALLOC_MMAP_THRESHOLD_: '131072' });
    expect(withMallocTuning({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }, 'linux')).toEqual({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' });
    expect(withMallocTuning({ PATH: '/bin' }, 'darwin')).toEqual({ PATH: '/bin' });
  });
});

describe('Function: isLongRunning', () => {
  it('is true for serve only: one-shot commands are not re-executed (no second Node start in run)', () => {
    expect(isLongRunning(['serve', '--port', '0'])).toBe(true);
    for (const args of [['run', '.'], ['plan'], ['validate'], ['gc'], []]) expect(isLongRunning(args)).toBe(false);
  });
});

describe.runIf(process.platform === 'linux')('bin/buildfarm.mjs and the malloc setting', () => {
  let serve: ServeProcess | undefined;
  let directory: string | undefined;
  afterEach(async () => {
    await serve?.stop('SIGTERM');
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it('runs the farm with the malloc setting in its environment, in the process that was started', async () => {
    // Prepare
    directory = await mkdtemp(join(tmpdir(), 'malloc-tuning-'));
    // Act: started without the setting
    serve = await startServe(['--port', '0', '--data-dir', directory], { MALLOC_MMAP_THRESHOLD_: undefined, GLIBC_TUNABLES: undefined });
    // Assess: the started pid is the farm (re-executed in place, no extra process) and carries it
    const environment = (await readFile(`/proc/${serve.child.pid}/environ`, 'utf8')).split('\0');
    for (const [name, value] of Object.entries(MALLOC_TUNING)) expect(environment).toContain(`${name}=${value}`);
    expect(serve.output()).toContain('Press Ctrl-C to stop.');
  });
});
