/**
 * `buildfarm serve` started exactly as an operator starts it
 * (`node bin/buildfarm.mjs serve ...`), for the load and kill runs: only its
 * command line, banner, HTTP API and process tree are used, never its code.
 * Unlike test/local/support/serve-process.ts it keeps only the tail of the
 * farm's output (a 1 GiB log run prints up to the log cap to the terminal)
 * and can start it through the Node-20 wrapper of bin/buildfarm.mjs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { processTree } from './process-tree.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/buildfarm.mjs', import.meta.url));
/** The Node 22 the farm targets (the `node` devDependency). */
export const NODE_22 = fileURLToPath(new URL('../../node_modules/node/bin/node', import.meta.url));
const TAIL_BYTES = 256 * 1024;

/**
 * A Node older than 22 on this machine, if any: started by it, bin/buildfarm.mjs is a wrapper that
 * re-runs the farm on NODE_22 (so the tree is wrapper -> farm).
 */
export function olderNode(): string | undefined {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (!existsSync(candidate)) continue;
    try {
      const major = Number(execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim().slice(1).split('.')[0]);
      if (major < 22) return candidate;
    } catch {
      // Not runnable: try the next.
    }
  }
  return undefined;
}

export interface FarmCli {
  /** The process we started: the wrapper when started through an older Node, else the farm itself. */
  top: ChildProcess;
  /** The Node-22 process that runs the farm (== top.pid without the wrapper). */
  farmPid: number;
  url: string;
  s3Endpoint: string;
  /** The last 256 KiB the farm printed (stdout and stderr). */
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The farm's whole process tree now (top first). */
  tree(): number[];
  /** Sends `signal` to the top process and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface FarmCliOptions {
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The Node that runs bin/buildfarm.mjs (default NODE_22; an older one adds the wrapper). */
  node?: string;
  readyTimeoutMs?: number;
}

export async function startFarmCli(options: FarmCliOptions): Promise<FarmCli> {
  const node = options.node ?? NODE_22;
  const top = spawn(node, [BIN, 'serve', ...options.args], {
    cwd: ROOT,
    // PATH first gets NODE_22's directory, as npm scripts do; GITHUB_WEBHOOK_SECRET only if given.
    env: { ...process.env, GITHUB_WEBHOOK_SECRET: '', ...options.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (text: string) => {
    tail += text;
    if (tail.length > TAIL_BYTES * 2) tail = tail.slice(-TAIL_BYTES);
  };
  top.stdout!.setEncoding('utf8').on('data', keep);
  top.stderr!.setEncoding('utf8').on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => top.once('exit', (code, signal) => resolve({ code, signal })));
  let banner = '';
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), options.readyTimeoutMs ?? 120_000);
    const check = (text: string) => {
      banner += text;
      if (banner.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        top.stdout!.off('data', check);
        resolve(true);
      }
    };
    top.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    if (top.exitCode === null) top.kill('SIGKILL');
    throw new Error(`buildfarm serve was not ready:\n${tail.slice(-4000)}`);
  }
  const url = /dashboard\s+(http:\/\/127\.0\.0\.1:\d+)\//.exec(banner)?.[1];
  const s3Endpoint = /S3\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
  if (!url || !s3Endpoint) throw new Error(`no addresses in the banner:\n${banner}`);
  const topPid = top.pid!;
  // Through the wrapper, the farm is the wrapper's Node child (the banner comes from it).
  const farmPid = node === NODE_22 ? topPid : (processTree(topPid)[1] ?? topPid);
  return {
    top,
    farmPid,
    url,
    s3Endpoint,
    output: () => tail,
    exited,
    tree: () => processTree(topPid),
    async stop(signal = 'SIGTERM') {
      if (top.exitCode === null && top.signalCode === null) top.kill(signal);
      await exited;
    },
  };
}

/** Waits until none of `pidsToWatch` is alive; resolves false after `timeoutMs`. */
export async function waitGone(isAlive: (pid: number) => boolean, pidsToWatch: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidsToWatch.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}
