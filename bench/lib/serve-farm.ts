/**
 * A `buildfarm serve` (the bundle) on a data directory of its own, for `buildfarm run` to hand
 * its builds to: started, awaited until its banner says it is ready, stopped with Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ROOT } from './child.js';

export interface ServedFarm {
  /** What it printed so far (a build it ran is named there). */
  output(): string;
  stop(): Promise<void>;
}

const READY = /Press Ctrl-C to stop\./;
const READY_MS = 60_000;

export async function serveFarm(bin: string, dataDirectory: string, env: NodeJS.ProcessEnv): Promise<ServedFarm> {
  const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--data-dir', dataDirectory], {
    cwd: ROOT,
    env: { ...env, GITHUB_WEBHOOK_SECRET: '', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = once(child, 'exit');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`buildfarm serve did not start in ${READY_MS} ms: ${output.slice(-2000)}`)), READY_MS);
    const take = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (READY.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`buildfarm serve exited before it was ready: ${output.slice(-2000)}`));
    });
  });
  return {
    output: () => output,
    async stop() {
      if (child.exitCode === null) child.kill('SIGINT');
      await exited;
    },
  };
}
