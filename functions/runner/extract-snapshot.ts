/**
 * The build's source snapshot (.tar.gz, a GitHub tarball or `git archive`) into
 * a workspace, through the shared safe extraction (archive/safe-extract.ts).
 */
import type { Readable } from 'node:stream';
import { extractTar, type ExtractOptions, type ExtractSummary } from './archive/safe-extract.js';

export { DEFAULT_MAX_ENTRIES, isInside, type ExtractOptions, type ExtractSummary } from './archive/safe-extract.js';

export function extractSnapshot(gzipped: Readable, workspace: string, options: ExtractOptions): Promise<ExtractSummary> {
  return extractTar(gzipped, workspace, { ...options, gunzip: true });
}
