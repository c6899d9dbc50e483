/** `buildfarm run` as a user starts it (bin/buildfarm.mjs in a process of its own), its output kept. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../../bin/buildfarm.mjs', import.meta.url));

export interface RunProcess {
  pid: number;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  output(): string;
}

export function startRun(args: string[], env: NodeJS.ProcessEnv = {}): RunProcess {
  const child = spawn(process.execPath, [BIN, 'run', ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
  return {
    pid: child.pid!,
    output: () => stdout + stderr,
    done: new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr }))),
  };
}

export async function until(check: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
