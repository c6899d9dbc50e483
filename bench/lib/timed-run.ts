/**
 * Runs a command to its end and times it (wall clock, from spawn to close), keeping its
 * stdout and the tail of its stderr (4,000 characters).
 */
import { spawn } from 'node:child_process';
import { msSince } from './stats.js';

export function timedRun(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<{ ms: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = msSince(started);
      if (code !== 0) return reject(new Error(`${command} ${args.slice(0, 3).join(' ')} exited with ${code}: ${stderr.trim() || stdout.slice(-2000)}`));
      resolve({ ms, stdout, stderr });
    });
  });
}
