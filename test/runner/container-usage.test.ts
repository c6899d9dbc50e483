/**
 * The build container's CPU and memory on Fargate (domain/fargate/container-stats.ts,
 * runner/container-usage.ts): hand-computed from Docker stats in the shape the ECS task metadata
 * endpoint v4 documents, then the live-log sampler against a stand-in endpoint over HTTP.
 * Mocked: the endpoint itself (nothing here runs the ECS agent); its answers follow the
 * documented `/task` and `/task/stats` shapes, and what they would be on AWS is not checked here.
 */
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { containerSample, ContainerUsageAccumulator } from '../../functions/domain/fargate/container-stats.js';
import { readContainerUsage, sampleBuildContainer } from '../../functions/runner/container-usage.js';
import { fetchTaskMetadata } from '../../functions/runner/task-metadata-endpoint.js';

const BUILD_ID = 'cd189a933e5849daa93386466019ab50-2495160603';
const at = (seconds: number) => new Date(Date.parse('2026-12-01T00:00:00Z') + seconds * 1000).toISOString();
const stats = (seconds: number, cpuNs: number, usage: number, inactive = 0) => ({
  read: at(seconds),
  cpu_stats: { cpu_usage: { total_usage: cpuNs } },
  memory_stats: { usage, stats: { inactive_file: inactive } },
});
const MiB = 1024 * 1024;

describe('Class: ContainerUsageAccumulator', () => {
  it('CPU seconds from the cgroup counter, the peak over one-second windows, memory less the inactive cache (hand-computed)', () => {
    const usage = new ContainerUsageAccumulator();
    // 0.5 s used before the first sample; 2 s of CPU in the next second (2 vCPU), then 0.5 s.
    for (const [s, ns, mem, inactive] of [[0, 0.5e9, 100 * MiB, 0], [1, 2.5e9, 300 * MiB, 100 * MiB], [1, 2.5e9, 900 * MiB, 0], [2, 3.0e9, 250 * MiB, 0]] as const) {
      usage.note(containerSample({ [BUILD_ID]: stats(s, ns, mem, inactive) }, BUILD_ID)!);
    }
    // The repeated read at 1 s (the endpoint's cached answer) is ignored, its memory too.
    expect(usage.summary()).toEqual({ cpuSeconds: 3, peakVcpu: 2, peakMemoryMiB: 250, samples: 3 });
  });

  it('no sample for a container without stats yet (null) or without a CPU counter', () => {
    expect(containerSample({ [BUILD_ID]: null }, BUILD_ID)).toBeUndefined();
    expect(containerSample({ [BUILD_ID]: { read: at(0) } }, BUILD_ID)).toBeUndefined();
    expect(containerSample({}, BUILD_ID)).toBeUndefined();
  });

  it('reads cgroup v1 stats too (total_inactive_file)', () => {
    const v1 = { read: at(0), cpu_stats: { cpu_usage: { total_usage: 1 } }, memory_stats: { usage: 300 * MiB, stats: { total_inactive_file: 44 * MiB } } };
    expect(containerSample({ [BUILD_ID]: v1 }, BUILD_ID)!.memoryBytes).toBe(256 * MiB);
  });
});

describe('Function: sampleBuildContainer (a stand-in metadata endpoint over HTTP)', () => {
  let server: Server;
  let dir: string;
  let requests = 0;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'container-usage-'));
    requests = 0;
    const started = Date.now();
    server = createServer((request, response) => {
      response.setHeader('content-type', 'application/json');
      if (request.url === '/v4/task') {
        response.end(JSON.stringify({ Containers: [{ Name: 'fetch', DockerId: 'f' }, { Name: 'build', DockerId: BUILD_ID, KnownStatus: 'RUNNING' }] }));
      } else if (request.url === '/v4/task/stats') {
        requests += 1;
        // A build using 1.5 vCPU steadily, 400 MiB resident, as its stats would say at this moment.
        const seconds = (Date.now() - started) / 1000;
        response.end(JSON.stringify({ f: null, [BUILD_ID]: stats(seconds, Math.round(seconds * 1.5e9), 400 * MiB) }));
      } else {
        response.statusCode = 404;
        response.end('{}');
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });

  afterEach(async () => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('samples until the build stops, leaves final figures for publish, and publish reads them', async () => {
    const env = { ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4` };
    const file = join(dir, 'usage.json');
    const until = new Promise<void>((resolve) => setTimeout(resolve, 3_500));

    const summary = await sampleBuildContainer({ taskMetadata: () => fetchTaskMetadata(env), taskStats: () => fetchTaskMetadata(env, '/task/stats'), until, file, intervalMs: 250 });

    expect(requests).toBeGreaterThan(5);
    expect(summary.peakMemoryMiB).toBe(400);
    expect(summary.cpuSeconds).toBeGreaterThan(4);
    expect(summary.peakVcpu).toBeCloseTo(1.5, 1);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ ...summary, final: true });
    expect(await readContainerUsage(file, 0)).toEqual(summary);
  }, 20_000);

  it('publish gives up waiting for final figures after its wait, and finds none where live-log left none', async () => {
    const file = join(dir, 'usage.json');
    const started = Date.now();
    expect(await readContainerUsage(file, 300)).toBeUndefined();
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });
});
