/**
 * The build container's CPU and memory on Fargate, from the Docker stats the task metadata
 * endpoint v4 serves (`${ECS_CONTAINER_METADATA_URI_V4}/task/stats`: a map of Docker id to
 * ContainerStats, null for a container without stats). The live-log container samples it while
 * the build runs (runner/container-usage.ts); publish puts the result in the stage's record.
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 * https://docs.docker.com/engine/api/v1.30/#operation/ContainerStats
 *
 * - CPU: `cpu_stats.cpu_usage.total_usage`, the container cgroup's CPU time in nanoseconds since
 *   it started (all its processes, whatever they do), stamped with `read`. The peak is taken over
 *   consecutive samples at least PEAK_WINDOW_MS apart, by the stats' own timestamps.
 * - Memory: `memory_stats.usage` less the inactive file cache (`stats.inactive_file` on cgroup v2,
 *   `stats.total_inactive_file` on v1), as `docker stats` shows it; the peak over the samples.
 * Pure: the clock is the stats' `read` field.
 */
import { PEAK_WINDOW_MS } from '../sizing/cpu-usage.js';

export interface ContainerSample {
  readAtMs: number;
  cpuNs: number;
  memoryBytes: number;
}

interface DockerStats {
  read?: string;
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: Record<string, number> };
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** The Docker id of the named container, from `${ECS_CONTAINER_METADATA_URI_V4}/task`. */
export function containerDockerId(taskMetadata: unknown, name: string): string | undefined {
  const containers = (taskMetadata as { Containers?: { Name?: string; DockerId?: string }[] } | null)?.Containers ?? [];
  return containers.find((c) => c.Name === name)?.DockerId;
}

/** One sample of the container from `/task/stats`; undefined while it has none (its first second, or stopped). */
export function containerSample(taskStats: unknown, dockerId: string): ContainerSample | undefined {
  const stats = (taskStats as Record<string, DockerStats | null> | null)?.[dockerId];
  if (!stats) return undefined;
  const cpuNs = stats.cpu_stats?.cpu_usage?.total_usage;
  const readAtMs = Date.parse(stats.read ?? '');
  if (!isNumber(cpuNs) || !Number.isFinite(readAtMs)) return undefined;
  const usage = stats.memory_stats?.usage;
  const inactive = stats.memory_stats?.stats?.inactive_file ?? stats.memory_stats?.stats?.total_inactive_file ?? 0;
  const memoryBytes = isNumber(usage) ? Math.max(0, usage - (isNumber(inactive) ? inactive : 0)) : 0;
  return { readAtMs, cpuNs, memoryBytes };
}

/** What the live-log container leaves for publish. */
export interface ContainerUsage {
  cpuSeconds: number;
  /** Undefined when no two samples were a window apart (a build of a second or two). */
  peakVcpu?: number;
  peakMemoryMiB: number;
  samples: number;
}

export class ContainerUsageAccumulator {
  private last: ContainerSample | undefined;
  private windowStart: ContainerSample | undefined;
  private peakVcpu: number | undefined;
  private peakMemoryBytes = 0;
  private samples = 0;

  note(sample: ContainerSample): void {
    // The same stats read twice (the endpoint caches them for a moment) add nothing.
    if (this.last && sample.readAtMs <= this.last.readAtMs) return;
    this.samples += 1;
    this.last = sample;
    this.peakMemoryBytes = Math.max(this.peakMemoryBytes, sample.memoryBytes);
    if (!this.windowStart) {
      this.windowStart = sample;
    } else if (sample.readAtMs - this.windowStart.readAtMs >= PEAK_WINDOW_MS) {
      const rate = (sample.cpuNs - this.windowStart.cpuNs) / 1e9 / ((sample.readAtMs - this.windowStart.readAtMs) / 1000);
      this.peakVcpu = Math.max(this.peakVcpu ?? 0, rate);
      this.windowStart = sample;
    }
  }

  summary(): ContainerUsage {
    return {
      cpuSeconds: (this.last?.cpuNs ?? 0) / 1e9,
      ...(this.peakVcpu !== undefined ? { peakVcpu: this.peakVcpu } : {}),
      peakMemoryMiB: Math.ceil(this.peakMemoryBytes / (1024 * 1024)),
      samples: this.samples,
    };
  }
}

/** The usage file read back (publish): undefined unless well-formed. */
export function parseContainerUsage(text: string): ContainerUsage | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const { cpuSeconds, peakVcpu, peakMemoryMiB, samples } = (value ?? {}) as Record<string, unknown>;
  if (!isNumber(cpuSeconds) || !isNumber(peakMemoryMiB) || !isNumber(samples) || (peakVcpu !== undefined && !isNumber(peakVcpu))) return undefined;
  return { cpuSeconds, ...(peakVcpu !== undefined ? { peakVcpu } : {}), peakMemoryMiB, samples };
}
