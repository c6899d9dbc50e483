/**
 * `buildfarm serve` as a user runs it: a child process of bin/buildfarm.mjs,
 * its output collected, its addresses read from the banner it prints.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/buildfarm.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  s3Endpoint: string;
  output(): string;
  /** Sends `signal` and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

/** `node` runs bin/buildfarm.mjs (default: this Node; an older one exercises the wrapper that re-runs on Node 22). */
export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}, node = process.execPath): Promise<ServeProcess> {
  const child = spawn(node, [BIN, 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, GITHUB_WEBHOOK_SECRET: '', ...env, NO_COLOR: '1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    new Promise<true>((resolve) => {
      const check = () => {
        if (/Press Ctrl-C to stop\./.test(output)) {
          child.stdout.off('data', check);
          resolve(true);
        }
      };
      child.stdout.on('data', check);
    }),
    exited.then(() => false as const),
  ]);
  if (!ready) throw new Error(`buildfarm serve exited before it was ready:\n${output}`);
  const url = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
  const s3Endpoint = /S3\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
  if (!url || !s3Endpoint) throw new Error(`no addresses in the banner:\n${output}`);
  return {
    child,
    url,
    s3Endpoint,
    output: () => output,
    exited,
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs `buildfarm serve` expecting it to fail at once; resolves with its exit code and output. */
export function runServeToExit(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: ROOT, env: { ...process.env, ...env, NO_COLOR: '1' } });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, output })));
}
