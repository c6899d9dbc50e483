/**
 * The live-log container's second job on Fargate: while the build container runs, sample its
 * Docker stats from the task metadata endpoint v4 every USAGE_SAMPLE_MS and leave what it used
 * (CPU seconds, peak vCPUs, peak memory: domain/fargate/container-stats.ts) in the usage volume,
 * which the build container does not mount. Publish reads it into the stage's result record.
 *
 * The file is rewritten after every sample (to a temporary name, then renamed, so a reader never
 * sees half of it), and once more with `final: true` when the build has stopped: publish, which
 * starts as soon as the build stops, waits a moment for the final one (readContainerUsage).
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-metadata-endpoint-v4-fargate.html
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { containerDockerId, containerSample, ContainerUsageAccumulator, parseContainerUsage, type ContainerUsage } from '../domain/fargate/container-stats.js';
import { BUILD_CONTAINER, USAGE_FILE } from '../domain/fargate/layout.js';

export { USAGE_FILE };

/** Docker stats on Fargate need the container to have run about a second; a window is a second. */
export const USAGE_SAMPLE_MS = 1_000;
/** How long publish waits for live-log's final figures. */
export const USAGE_WAIT_MS = 5_000;

export interface SampleOptions {
  taskMetadata(): Promise<unknown>;
  taskStats(): Promise<unknown>;
  /** Resolves when the build container has stopped (or the task is stopping). */
  until: Promise<void>;
  file: string;
  intervalMs?: number;
}

async function writeUsage(file: string, usage: ContainerUsage, final: boolean): Promise<void> {
  await writeFile(`${file}.tmp`, JSON.stringify({ ...usage, final }));
  await rename(`${file}.tmp`, file);
}

/** Samples until `until` resolves, then writes the final figures; never throws (the figures are a nicety). */
export async function sampleBuildContainer(options: SampleOptions): Promise<ContainerUsage> {
  const usage = new ContainerUsageAccumulator();
  let done = false;
  void options.until.then(() => (done = true));
  let dockerId: string | undefined;
  const interval = options.intervalMs ?? USAGE_SAMPLE_MS;
  while (!done) {
    try {
      dockerId ??= containerDockerId(await options.taskMetadata(), BUILD_CONTAINER);
      const sample = dockerId === undefined ? undefined : containerSample(await options.taskStats(), dockerId);
      if (sample) {
        usage.note(sample);
        await writeUsage(options.file, usage.summary(), false);
      }
    } catch {
      // The endpoint did not answer this time; the next sample tries again.
    }
    await Promise.race([options.until, new Promise((resolve) => setTimeout(resolve, interval))]);
  }
  const summary = usage.summary();
  await writeUsage(options.file, summary, true).catch(() => undefined);
  return summary;
}

function isFinal(text: string): boolean {
  try {
    return (JSON.parse(text) as { final?: unknown } | null)?.final === true;
  } catch {
    return false;
  }
}

/** Publish's side: the final figures, or after `waitMs` whatever was last written; undefined when none. */
export async function readContainerUsage(file: string, waitMs = USAGE_WAIT_MS, now: () => number = Date.now): Promise<ContainerUsage | undefined> {
  const deadline = now() + waitMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    const final = text !== undefined && isFinal(text);
    if (final || now() >= deadline) return text === undefined ? undefined : parseContainerUsage(text);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
