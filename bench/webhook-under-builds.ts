/**
 * busy-webhook: how fast the local farm acknowledges a signed delivery while builds run
 * (issue 11: 614 ms when builds shared the server's event loop; goal p99 < 50 ms). The same
 * farm, the same builds and the same deliveries, three ways in one run: no build running
 * (the baseline: one build that only sleeps, holding the build slot so deliveries queue alike), N builds in the farm's process, N builds each in a child process.
 * Deliveries go one at a time, every 20 ms, on one keep-alive connection, from this process.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorker } from './lib/child.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { msSince, percentile, ratio, round } from './lib/stats.js';
import { postDelivery, pushDelivery, type Delivery } from './lib/webhook-fixture.js';

export const BUSY_WEBHOOK_SETTINGS = { builds: 2, seconds: 8, gapMs: 20 };

interface Window {
  deliveries: number;
  accepted: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Builds still running when the window closed (all N, or the figure is not "while builds run"). */
  buildsRunningAtEnd: number;
}


async function measure(mode: 'idle' | 'in-process' | 'child-process', delivery: Delivery): Promise<Window> {
  const data = await mkdtemp(join(tmpdir(), 'bench-busy-'));
  const builds = mode === 'idle' ? 1 : BUSY_WEBHOOK_SETTINGS.builds;
  const farm = await startWorker<{ port: number }>('bench/workers/busy-farm.ts', [mode === 'idle' ? 'quiet' : mode, data, String(builds)]);
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const { port } = farm.ready;
    const latencies: number[] = [];
    let accepted = 0;
    const deadline = process.hrtime.bigint() + BigInt(BUSY_WEBHOOK_SETTINGS.seconds * 1e9);
    for (let i = 0; process.hrtime.bigint() < deadline; i += 1) {
      const at = process.hrtime.bigint();
      const status = await postDelivery(agent, port, delivery, `busy-${mode}-${i}`).catch(() => 0);
      latencies.push(msSince(at));
      if (status === 202) accepted += 1;
      await new Promise((resolve) => setTimeout(resolve, BUSY_WEBHOOK_SETTINGS.gapMs));
    }
    const listed = await fetch(`http://127.0.0.1:${port}/api/builds`).then((r) => r.json() as Promise<Array<{ id: string; status: string }>>);
    return {
      deliveries: latencies.length,
      accepted,
      p50Ms: round(percentile(latencies, 0.5)),
      p99Ms: round(percentile(latencies, 0.99)),
      maxMs: round(Math.max(...latencies)),
      buildsRunningAtEnd: listed.filter((b) => b.id.startsWith('busy-') && b.status === 'running').length,
    };
  } finally {
    agent.destroy();
    await farm.stop();
    await rm(data, { recursive: true, force: true });
  }
}

export async function benchBusyWebhook(): Promise<SectionResult> {
  const delivery = pushDelivery();
  const idle = await measure('idle', delivery);
  const inProcess = await measure('in-process', delivery);
  const child = await measure('child-process', delivery);
  const { builds, seconds, gapMs } = BUSY_WEBHOOK_SETTINGS;
  const how = (w: Window) =>
    `signed 7.7 kB pushes to the local farm (startLocalFarm, real endpoint, durable local bus), one at a time every ${gapMs} ms for ${seconds} s (${w.deliveries} sent, ${w.accepted} answered 202), while ${builds} builds ran through the real state machine (two stages each writing ~6 MB of log); ${w.buildsRunningAtEnd} of ${builds} still running at the end`;
  const baseline = { name: 'same farm, one build that only sleeps, p99', value: idle.p99Ms, unit: 'ms' };
  const figures: Figure[] = [
    { section: 'busy-webhook', name: 'ack p50 while builds run (child processes)', value: child.p50Ms, unit: 'ms', how: how(child), baseline: { name: 'in-process builds, p50', value: inProcess.p50Ms, unit: 'ms' }, ratio: ratio(child.p50Ms, inProcess.p50Ms) },
    { section: 'busy-webhook', name: 'ack p99 while builds run (child processes)', value: child.p99Ms, unit: 'ms', how: how(child), baseline, ratio: ratio(child.p99Ms, idle.p99Ms), goal: below(child.p99Ms, 50, '< 50 ms') },
    { section: 'busy-webhook', name: 'ack p99 while builds run (in-process, before)', value: inProcess.p99Ms, unit: 'ms', how: how(inProcess), baseline, ratio: ratio(inProcess.p99Ms, idle.p99Ms) },
  ];
  const notes = [inProcess, child].some((w) => w.buildsRunningAtEnd < builds) ? ['a build ended before its window did: its figure is not wholly "while builds run"'] : [];
  return { figures, details: { settings: BUSY_WEBHOOK_SETTINGS, idle, inProcess, childProcess: child }, notes };
}
