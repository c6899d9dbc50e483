/**
 * The local farm's source provider: `git archive` of a repository on disk.
 *
 * The archive gets a single top-level folder (`{name}-{sha}/`), the same
 * shape as GitHub's tarballs, so the stage agent always strips one level
 * whichever provider made the snapshot.
 */
import { spawn } from 'node:child_process';
import { PassThrough, type Readable } from 'node:stream';
import type { SourceProvider, SourceRequest } from '../../ports/source-provider.js';
import { SourceUnavailable } from '../source-errors.js';

/** A full commit sha: archived while it is checked. */
const FULL_SHA = /^[0-9a-fA-F]{40}$/;

export class GitArchiveSource implements SourceProvider {
  /**
   * `repositoryPath`: a working tree or bare repository holding the commits to build.
   * `subdirectory`: build only this folder of the repository (a project inside a monorepo,
   * like examples/hello-farm in this one), as if it were the repository's root.
   */
  constructor(
    private readonly repositoryPath: string,
    private readonly gitBinary = 'git',
    private readonly subdirectory = '',
  ) {}

  async snapshot(request: SourceRequest): Promise<Readable> {
    // The commit is resolved and checked (an unknown one is a clear error, not a stream that dies
    // later). A full sha (every build's: the webhook's, `run`'s own rev-parse) is archived while it
    // is checked: two git processes at once, not one after the other (issue 12: each is a fork of
    // the farm's process, 10 to 20 ms here). The archive is dropped when the check fails.
    const verifying = this.git(['rev-parse', '--verify', '--quiet', `${request.sha}^{commit}`], request).then((out) => out.trim());
    // Awaited below; a spawn that throws first must not leave its rejection unhandled.
    verifying.catch(() => undefined);
    if (!FULL_SHA.test(request.sha)) return this.archive(await verifying, request);
    const archive = this.archive(request.sha.toLowerCase(), request);
    const commit = await verifying.catch((error: unknown) => {
      archive.destroy();
      throw error;
    });
    // A sha git knows only in another case is the same commit: the archive stands.
    if (commit !== request.sha.toLowerCase()) {
      archive.destroy();
      return this.archive(commit, request);
    }
    return archive;
  }

  /** `git archive` of `commit` as a stream; destroying it stops git. */
  private archive(commit: string, request: SourceRequest): Readable {
    const name = request.repository.split('/').at(-1) ?? 'source';
    const treeish = this.subdirectory ? `${commit}:${this.subdirectory.replace(/^\/+|\/+$/g, '')}` : commit;
    const child = spawn(this.gitBinary, ['archive', '--format=tar.gz', `--prefix=${name}-${commit}/`, treeish], {
      cwd: this.repositoryPath,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Read stdout at once: Node resumes (and so discards) a child's unread output when the child exits, and
    // the caller may only start reading after git is done.
    const archive = new PassThrough();
    // git may fail before anyone reads (while the commit is checked): the error stays on the stream
    // and is thrown to its reader (an errored stream throws it when read), never an uncaught 'error'.
    archive.on('error', () => undefined);
    child.stdout.pipe(archive, { end: false });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', (error) => archive.destroy(this.gitMissingOr(error)));
    child.on('close', (code) => {
      if (code === 0) archive.end();
      else archive.destroy(new SourceUnavailable(`git archive ${commit} failed (exit ${code}): ${stderr.trim()}`));
    });
    // A stream given up on (the commit check failed, the upload gave up) stops git.
    archive.on('close', () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    });
    return archive;
  }

  private git(args: string[], request: SourceRequest): Promise<string> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.gitBinary, args, { cwd: this.repositoryPath, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
      child.on('error', (error) => reject(this.gitMissingOr(error)));
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else if (stderr.includes('not a git repository'))
          reject(new SourceUnavailable(`${this.repositoryPath} is not a git repository`));
        else
          reject(
            new SourceUnavailable(
              `commit ${request.sha} is not in ${this.repositoryPath}${stderr.trim() ? `: ${stderr.trim()}` : ''}`,
            ),
          );
      });
    });
  }

  private gitMissingOr(error: NodeJS.ErrnoException): Error {
    if (error.code === 'ENOENT') {
      return new SourceUnavailable(`git is not installed (or "${this.gitBinary}" is not on PATH), or ${this.repositoryPath} does not exist`, { cause: error });
    }
    return new SourceUnavailable(`git failed: ${error.message}`, { cause: error });
  }
}
