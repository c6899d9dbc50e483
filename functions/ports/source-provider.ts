import type { Readable } from 'node:stream';

export interface SourceRequest {
  /** `owner/name`. */
  repository: string;
  sha: string;
}

/** A gzipped tarball of the repository at a commit: GitHub's tarball API on AWS, `git archive` locally. */
export interface SourceProvider {
  snapshot(request: SourceRequest): Promise<Readable>;
}
