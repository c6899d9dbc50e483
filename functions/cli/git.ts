import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { UserError } from '../domain/errors.js';

const run = promisify(execFile);

export class GitMissing extends UserError {
  override name = 'GitMissing';
}

/** The error for a git that is not there, said the same wherever git is run. */
export function gitMissing(): GitMissing {
  return new GitMissing('git is not installed or not on PATH; the local farm needs it to snapshot repositories (apt-get install git)');
}

/** Runs git in `cwd`; a missing git binary is a clear user error, not a stack trace. */
export async function git(cwd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await run('git', args, { cwd, maxBuffer: 64 * 1024 * 1024, ...(env ? { env: { ...process.env, ...env } } : {}) });
    return stdout.trim();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw gitMissing();
    throw new UserError(`git ${args.join(' ')} failed in ${cwd}: ${(e.stderr ?? e.message).trim()}`);
  }
}

/** The checked-out branch, or undefined (detached HEAD, not a repository). */
export async function currentBranch(cwd: string): Promise<string | undefined> {
  try {
    const branch = await git(cwd, ['rev-parse', '--abbrev-ref', 'HEAD']);
    return branch && branch !== 'HEAD' ? branch : undefined;
  } catch {
    return undefined;
  }
}
