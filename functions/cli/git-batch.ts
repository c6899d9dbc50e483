/**
 * Several git questions in one child process: `sh` runs the git commands one after another and
 * frames each one's output and exit status. Why: Node forks itself for every child process, and
 * that fork costs its main thread about 10 ms here (more as its heap grows: 3 forks of a process
 * with 200 MB took 55 ms), while `sh` forks cheaply. `buildfarm run` asks git three things at every
 * start (issue 12's fixed overhead).
 *
 * The commands are this module's callers' own constant arguments (quoted all the same); the
 * repository's path is the child's working directory, never part of the script. A random
 * boundary, passed in the environment, separates the answers, so no output can forge one.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { gitMissing } from './git.js';

export type GitAnswer = { ok: true; stdout: string } | { ok: false; code: number; stderr: string };

/** `sh`'s status for a command it could not find. */
const NOT_FOUND = 127;

const quote = (arg: string) => `'${arg.replace(/'/g, `'\\''`)}'`;

/** Runs each of `commands` (git's arguments) in `cwd`, in order; each answer trimmed, as git.ts's. */
export function gitBatch(cwd: string, commands: readonly (readonly string[])[]): Promise<GitAnswer[]> {
  const boundary = randomBytes(16).toString('hex');
  const script = commands
    .map((args) => `git ${args.map(quote).join(' ')}; printf '\\n%s %s\\n' "$BOUNDARY" "$?"; printf '\\n%s\\n' "$BOUNDARY" >&2`)
    .join('\n');
  return new Promise((resolve, reject) => {
    execFile('sh', ['-c', script], { cwd, env: { ...process.env, BOUNDARY: boundary }, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      // The script's own status is the last printf's: anything else is sh itself failing (missing, killed).
      if (error && typeof error.code !== 'number') return reject(error);
      const outputs = stdout.split(new RegExp(`\\n${boundary} (\\d+)\\n`));
      const errors = stderr.split(`\n${boundary}\n`);
      const answers: GitAnswer[] = [];
      for (let i = 0; i < commands.length; i += 1) {
        const code = Number(outputs[2 * i + 1]);
        if (Number.isNaN(code)) return reject(new Error(`sh ended before git ${commands[i]!.join(' ')} answered`));
        if (code === NOT_FOUND) return reject(gitMissing());
        answers.push(code === 0 ? { ok: true, stdout: (outputs[2 * i] ?? '').trim() } : { ok: false, code, stderr: (errors[i] ?? '').trim() });
      }
      resolve(answers);
    });
  });
}
