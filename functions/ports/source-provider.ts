import type { Readable } from 'node:stream';

export interface SourceRequest {
  /** `owner/name`. */
  repository: string;
  sha: string;
}

/**
 * A gzipped tarball of the repository at a commit: GitHub's tarball API on AWS, `git archive` locally.
 * Read the stream by iteration or `pipeline()`, which throw its error: a source may hold an error
 * that came before anyone read (git failing while the commit is checked) rather than emit it.
 */
export interface SourceProvider {
  snapshot(request: SourceRequest): Promise<Readable>;
}
