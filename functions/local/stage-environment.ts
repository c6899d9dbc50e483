/**
 * The environment the local farm's runtime gives a stage, in place of Lambda's: the same from
 * any working directory and any shell, whatever the farm's own PATH holds (under `npx` or an npm
 * script that is the farm's node_modules/.bin, whose `tsc` and `vitest` a stage must never get).
 *
 * Lambda's nodejs22.x image sets (https://github.com/aws/aws-lambda-base-images, Dockerfile.nodejs22.x;
 * https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
 *   PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin   (/var/lang/bin: node, npm, npx)
 *   LANG=en_US.UTF-8, TZ=:/etc/localtime (UTC there), LAMBDA_TASK_ROOT=/var/task, ...
 * The runner passes a stage only PATH, LANG, LC_ALL and TZ of these (runner/agent.ts), so locally:
 *   PATH = the folder of a Node 22 binary (for /var/lang/bin), then /usr/local/bin:/usr/bin:/bin
 *          (no /opt/bin: that is where Lambda layers go, and on a workstation it holds anything);
 *   LANG = C.UTF-8 (en_US.UTF-8 is often not generated on a workstation; C.UTF-8 is in glibc and musl);
 *   TZ   = UTC (the host's /etc/localtime is the user's zone, Lambda's is UTC).
 */
import { existsSync, realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { farmFile } from './farm-files.js';

/** The Node major version Lambda's runtime (nodejs22.x) and the farm's Fargate images run. */
export const STAGE_NODE_MAJOR = 22;

/**
 * The `node` a stage gets: the farm's own when it is a Node 22 (bin/buildfarm.mjs re-runs an older
 * Node on the `node` devDependency's), else that devDependency's Node 22, else the farm's own
 * (a Node 24 user without the devDependency: said in docs/local-farm.md).
 */
export function stageNodeBinary(execPath = process.execPath, version = process.versions.node): string {
  const own = realpathSync(execPath);
  if (Number(version.split('.')[0]) === STAGE_NODE_MAJOR) return own;
  const bundled = farmFile('node_modules', 'node', 'bin', 'node');
  return existsSync(bundled) ? realpathSync(bundled) : own;
}

export const LOCAL_SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'];

/** What the runner reads from its runtime's environment, for a local stage. */
export function localStageRuntimeEnv(node = stageNodeBinary()): Record<string, string> {
  return {
    PATH: [dirname(node), ...LOCAL_SYSTEM_PATH].join(':'),
    LANG: 'C.UTF-8',
    TZ: 'UTC',
  };
}
