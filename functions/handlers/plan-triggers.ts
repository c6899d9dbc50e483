/**
 * Does the pipeline want a build for this push or pull request? Mirrors the `on:` filters of the
 * pipeline file: branch globs (for a pull request, its base branch, as in GitHub Actions), path
 * globs against the changed files when GitHub lists them, and `[skip ci]` in the commit message.
 */
import picomatch from 'picomatch';
import type { BuildRequest } from '../domain/build-request.js';
import type { Pipeline, TriggerFilter } from '../domain/pipeline/types.js';

export interface TriggerDecision {
  build: boolean;
  reason: string;
}

const SKIP_MARKERS = ['[skip ci]', '[ci skip]', '[no ci]', '[skip actions]'];

function anyMatch(globs: string[], value: string): boolean {
  return globs.some((glob) => picomatch.isMatch(value, glob, { dot: true }));
}

function filterDecision(filter: TriggerFilter, branch: string, changedFiles: string[] | undefined): TriggerDecision {
  if (filter.branches && !anyMatch(filter.branches, branch)) return { build: false, reason: `branch ${branch} is not in on.branches` };
  if (filter.branchesIgnore && anyMatch(filter.branchesIgnore, branch)) return { build: false, reason: `branch ${branch} is in on.branches-ignore` };
  if (changedFiles && changedFiles.length > 0) {
    if (filter.paths && !changedFiles.some((file) => anyMatch(filter.paths!, file))) return { build: false, reason: 'no changed file matches on.paths' };
    if (filter.pathsIgnore && changedFiles.every((file) => anyMatch(filter.pathsIgnore!, file))) return { build: false, reason: 'every changed file matches on.paths-ignore' };
  }
  return { build: true, reason: `${branch} matches the pipeline's triggers` };
}

export function checkTriggers(pipeline: Pipeline, request: BuildRequest): TriggerDecision {
  const marker = SKIP_MARKERS.find((m) => request.message.toLowerCase().includes(m));
  if (marker) return { build: false, reason: `the commit message says ${marker}` };
  const configured = Object.keys(pipeline.on).length > 0;
  const filter = pipeline.on[request.event];
  if (!filter) {
    return configured ? { build: false, reason: `the pipeline does not build on ${request.event}` } : { build: true, reason: 'the pipeline builds on every event' };
  }
  const branch = request.event === 'pull_request' ? (request.baseBranch ?? request.branch) : request.branch;
  return filterDecision(filter, branch, request.changedFiles);
}
