/**
 * The task's `live-log` container: it prints the build's log live (live-log.ts) and samples the
 * build container's CPU and memory (container-usage.ts) until the build container stops.
 */
import { ENV, LOG_FILE } from '../domain/fargate/layout.js';
import { sampleBuildContainer, USAGE_FILE, USAGE_SAMPLE_MS } from './container-usage.js';
import { buildContainerStopped, followLiveLog } from './live-log.js';
import { fetchTaskMetadata, HelperMisconfigured } from './task-metadata-endpoint.js';

/**
 * No grant, no S3, no secrets: it only reads the logs
 * volume and the task metadata endpoint. A stage with secrets prints nothing live.
 */
export async function runLiveLog(env: NodeJS.ProcessEnv, output: NodeJS.WritableStream = process.stdout): Promise<number> {
  const stopRequested = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  const buildStopped = async () => buildContainerStopped(await fetchTaskMetadata(env));
  // The build container's CPU and memory, sampled while it runs (container-usage.ts), with or without a live log.
  let finished!: () => void;
  const until = new Promise<void>((resolve) => (finished = resolve));
  const usage = sampleBuildContainer({ taskMetadata: () => fetchTaskMetadata(env), taskStats: () => fetchTaskMetadata(env, '/task/stats'), until, file: USAGE_FILE });
  if (env[ENV.logLive] !== 'true') {
    output.write('buildfarm: this stage has secrets, so its output goes only to the stage log, which publish masks and uploads\n');
    await untilBuildStops(buildStopped, stopRequested);
  } else {
    await followLiveLog({ logFile: LOG_FILE, output, capBytes: logLimitFromEnv(env), buildStopped, stopRequested });
  }
  finished();
  await usage;
  return 0;
}

/** Waits for the build container to stop; gives up when there is no endpoint, or it failed 10 times running. */
async function untilBuildStops(buildStopped: () => Promise<boolean>, stopRequested: Promise<void>): Promise<void> {
  let stop = false;
  void stopRequested.then(() => (stop = true));
  for (let failures = 0; !stop && failures < 10; ) {
    try {
      if (await buildStopped()) return;
      failures = 0;
    } catch (error) {
      if (error instanceof HelperMisconfigured) return;
      failures += 1;
    }
    await Promise.race([stopRequested, new Promise((resolve) => setTimeout(resolve, USAGE_SAMPLE_MS))]);
  }
}

/** The stage's `log-limit` as the overrides carry it; the default cap when absent or unreadable. */
function logLimitFromEnv(env: NodeJS.ProcessEnv): number | undefined {
  const bytes = Number(env[ENV.logLimitBytes]);
  return Number.isInteger(bytes) && bytes > 0 ? bytes : undefined;
}

