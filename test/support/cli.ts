import { PassThrough } from 'node:stream';
import { main } from '../../functions/cli/main.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Runs the CLI in-process, as `buildfarm ...args` would, capturing its output. */
export async function runCli(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  const out = collect();
  const err = collect();
  const code = await main(args, { stdout: out.stream, stderr: err.stream, cwd: options.cwd ?? process.cwd(), env: options.env ?? {} });
  return { code, stdout: out.text(), stderr: err.text() };
}
