/**
 * The Fargate task's helper, bundled on its own (scripts/bundle.mjs and the
 * fargate-prepare function's second entry point) and run by the stock Node.js
 * image in the helper containers of every build task:
 *
 * - `fetch` (BUILDFARM_HELPER_MODE=fetch, fargate/fetch.ts): reads the stage from the
 *   plan in S3, materialises the workspace, writes the build container's scripts, and
 *   hands the workspace and the stage's secrets to the build user.
 * - `publish` (BUILDFARM_HELPER_MODE=publish, fargate/publish.ts): reads the build
 *   container's exit code, uploads the log, the artifacts and the manifest, and writes
 *   the result record the report reads.
 * - live-log (live-log-container.ts).
 *
 * The stage agent's pieces (workspace.ts, artifacts.ts, the S3 store) come in through
 * `HelperDeps` (fargate/helper-deps.ts), so the helper holds only what is specific to the
 * three-container layout; `helperDepsFromEnv` (fargate/helper-deps-from-env.ts) wires the
 * real ones, and this module runs itself when BUILDFARM_HELPER_MODE is set (the bootstrap
 * `require`s it, publish runs it with node).
 */
import { ENV, LIVE_LOG_CONTAINER } from '../domain/fargate/layout.js';
import { contextFromEnv } from './fargate/helper-context.js';
import type { HelperDeps } from './fargate/helper-deps.js';
import { helperDepsFromEnv } from './fargate/helper-deps-from-env.js';
import { runFetch } from './fargate/fetch.js';
import { runPublish } from './fargate/publish.js';
import { runLiveLog } from './live-log-container.js';
import { HelperMisconfigured } from './task-metadata-endpoint.js';

/** Runs the mode named in the environment; exit code 0 means the result record is written. */
export async function runHelper(env: NodeJS.ProcessEnv, deps: HelperDeps): Promise<number> {
  const context = contextFromEnv(env);
  const mode = env[ENV.mode];
  if (mode === 'fetch') {
    await runFetch(context, deps);
    return 0;
  }
  if (mode === 'publish') {
    const result = await runPublish(context, deps);
    deps.log.line(`== ${result.stage}: ${result.status}${result.exitCode !== null ? ` (exit ${result.exitCode})` : ''}`);
    return 0;
  }
  throw new HelperMisconfigured(`${ENV.mode} must be fetch or publish, not "${mode ?? ''}"`);
}

// Runs only inside the task's helper containers; importing the module (tests, bundling) does nothing.
if (process.env[ENV.mode] === LIVE_LOG_CONTAINER) {
  runLiveLog(process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      console.error(`buildfarm live-log failed: ${error.name}: ${error.message}`);
      process.exitCode = 1;
    },
  );
} else if (process.env[ENV.mode]) {
  Promise.resolve()
    .then(async () => runHelper(process.env, await helperDepsFromEnv(process.env)))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: Error) => {
        console.error(`buildfarm ${process.env[ENV.mode]} failed: ${error.name}: ${error.message}`);
        process.exitCode = 1;
      },
    );
}
