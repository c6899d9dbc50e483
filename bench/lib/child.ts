/**
 * Runs a bench worker in a fresh Node process, so its memory (maxRSS) and start-up are its
 * own, and reads the one JSON line it prints last on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface ChildOptions {
  env?: NodeJS.ProcessEnv;
  /** Killed after this long (ms); the promise rejects. */
  timeoutMs?: number;
  /** Node flags before the script (tsx is always loaded). */
  nodeFlags?: string[];
}

/** Runs `node --import tsx <script> ...args` to completion; resolves with its last stdout line parsed as JSON. */
export function runWorker<T>(script: string, args: string[], options: ChildOptions = {}): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${script} exited with ${code ?? signal}: ${stderr.trim()}`));
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${last.slice(0, 200)} ${stderr.trim()}`));
      }
    });
  });
}

/** A long-lived worker (a server): resolves with its first stdout line parsed as JSON, e.g. its port. */
export function startWorker<T>(script: string, args: string[], options: ChildOptions = {}): Promise<{ child: ChildProcess; ready: T; stop(): Promise<void> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', 'tsx', script, ...args], {
      cwd: ROOT,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      // Closing stdin asks the worker to shut down cleanly; SIGKILL if it does not.
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    };
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code} before it was ready`)));
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      try {
        resolve({ child, ready: JSON.parse(line) as T, stop });
      } catch (error) {
        child.kill('SIGKILL');
        reject(error as Error);
      }
    });
  });
}

/** For workers: resolves when the parent closes our stdin (the parent's way to say "stop"). */
export function stdinClosed(): Promise<void> {
  return new Promise((resolve) => {
    process.stdin.on('end', () => resolve());
    process.stdin.on('close', () => resolve());
    process.stdin.resume();
  });
}
