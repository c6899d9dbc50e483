/**
 * `buildfarm serve` runs each build in a child process (functions/local/child-build):
 * the farm's event loop stays free while builds run, a build process killed from
 * outside ends its build `error` without leaving processes, and the farm learns
 * a build's progress and report over IPC.
 */
import { BUILD_PROCESS_NICENESS } from '../../functions/local/child-build/child-process-runner.js';
import { readdir, readFile } from 'node:fs/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import { createChildProcessBuildRunner } from '../../functions/local/child-build/child-process-runner.js';
import { buildProcessEntry } from '../../functions/local/child-build/entry.js';
import { pushRequest, startTestFarm } from './support/test-farm.js';
import { stageLogKey } from '../../functions/domain/storage-keys.js';
import type { FarmEvent } from '../../functions/local/farm.js';
import { startRealLocalFarm, type RealLocalFarm } from '../support/real-local-farm.js';

/** Pids of live (not zombie) processes whose command line contains `text`. */
async function processesRunning(text: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cmdline = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
    if (!zombie && cmdline.replaceAll('\0', ' ').includes(text)) pids.push(Number(name));
  }
  return pids;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('Local farm: builds in child processes', { timeout: 120_000 }, () => {
  let farm: RealLocalFarm | undefined;
  let marker: string | undefined;

  afterEach(async () => {
    await farm?.close();
    farm = undefined;
    if (marker) for (const pid of await processesRunning(marker)) process.kill(pid, 'SIGKILL');
    marker = undefined;
  });

  it('runs a build in a process of its own: its stages are that process\'s children, the report and progress come back, and the process is gone after', async () => {
    // Prepare
    const started = new Map<string, number>();
    const events: FarmEvent[] = [];
    farm = await startRealLocalFarm({
      builds: 'child-process',
      pipeline: 'version: 1\nstages:\n  hello:\n    commands:\n      - echo "parent=$PPID"\n      - echo "nice=$(cut -d" " -f19 /proc/$$/stat)"\n',
      onStarted: (id, pid) => started.set(id, pid),
      onEvent: (event) => events.push(event),
    });

    // Act
    await farm.farm.farm.start('one', farm.input('one'));
    const record = await farm.farm.farm.settled('one');

    // Assess
    expect(record.state, JSON.stringify(record.error)).toBe('succeeded');
    const child = started.get('one')!;
    expect(child).toBeGreaterThan(0);
    expect(child).not.toBe(process.pid);
    const log = await farm.farm.s3.store.getText(stageLogKey('one', 'hello'));
    // The stage's shell was started by the build's process, not by the farm's.
    expect(log).toContain(`parent=${child}`);
    // The build and its stages yield the CPU to the farm (webhook acknowledgements come first).
    expect(log).toContain(`nice=${BUILD_PROCESS_NICENESS}`);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['started', 'planned', 'stage-started', 'stage-finished', 'finished']));
    expect(record.report?.status).toBe('succeeded');
    // The report step published to the farm's BuildReports topic through the IPC channel.
    expect(farm.farm.farm.reportMessage('one')).toBeDefined();
    await expect.poll(() => isAlive(child), { timeout: 10_000 }).toBe(false);
  });

  it('keeps the farm\'s event loop free while a build process blocks its own event loop hard', async () => {
    // Prepare: the real runner, forking a build process that busy-loops for 3 s before it reports
    // (the runner's context is never used by that process: no S3, no repositories)
    const entry = { module: fileURLToPath(new URL('./support/blocking-build-process.ts', import.meta.url)), execArgv: buildProcessEntry().execArgv };
    const context = { dataDirectory: '/nonexistent', s3: { endpoint: 'http://127.0.0.1:9', bucket: 'b' }, reports: { publish: async () => ({ messageId: 'm' }) }, repositories: [] };
    const runner = createChildProcessBuildRunner(context as never, { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 }, { entry });
    const probes = await startTestFarm();
    const delay = monitorEventLoopDelay({ resolution: 10 });
    const stages: string[] = [];

    try {
      // Act: probe the farm's API every 20 ms while the build process is blocked
      const progress = { planned: () => undefined, stageStarted: (stage: string) => stages.push(stage), stageLog: () => undefined, stageFinished: () => undefined };
      const build = runner.run({ buildId: 'busy', request: pushRequest() }, { signal: new AbortController().signal, progress });
      await expect.poll(() => stages, { timeout: 30_000, interval: 20 }).toEqual(['busy']);
      delay.enable();
      let done = false;
      const report = build.finally(() => (done = true));
      const latencies: number[] = [];
      while (!done) {
        const at = performance.now();
        await (await fetch(`${probes.url}/api/builds`)).arrayBuffer();
        latencies.push(performance.now() - at);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      delay.disable();

      // Assess: the build took its 3 s; the farm answered all along. Bounds are generous (the
      // machine is shared): on the farm's own loop the same build would block it for 3,000 ms.
      expect((await report).status).toBe('succeeded');
      expect(latencies.length).toBeGreaterThan(20);
      expect(Math.max(...latencies)).toBeLessThan(1000);
      expect(delay.max / 1e6).toBeLessThan(1000);
    } finally {
      await probes.close();
    }
  });

  it('ends a build whose process is killed from outside `error`, naming how it died, and leaves no stage process', async () => {
    // Prepare: a stage that sleeps far longer than the test
    marker = `sleep ${8000 + Math.floor(Math.random() * 900)}`;
    const started = new Map<string, number>();
    farm = await startRealLocalFarm({
      builds: 'child-process',
      pipeline: `version: 1\nstages:\n  slow:\n    commands:\n      - ${marker} && echo done\n`,
      onStarted: (id, pid) => started.set(id, pid),
    });
    await farm.farm.farm.start('killed', farm.input('killed'));
    await expect.poll(async () => (await processesRunning(marker!)).length, { timeout: 30_000, interval: 100 }).toBeGreaterThan(0);

    // Act
    process.kill(started.get('killed')!, 'SIGKILL');
    const record = await farm.farm.farm.settled('killed');

    // Assess
    expect(record.state).toBe('error');
    expect(record.error?.name).toBe('BuildProcessDied');
    expect(record.error?.message).toMatch(/killed by SIGKILL before it reported/);
    expect(record.stages.find((s) => s.name === 'slow')?.status).toBe('cancelled');
    expect(await processesRunning(marker)).toEqual([]);
  });
});
