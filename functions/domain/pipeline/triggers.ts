import picomatch from 'picomatch';
import type { EventName, StageCondition, TriggerFilter, Triggers } from './types.js';
import { findSkipDirective } from '../webhook/skip-directive.js';

/**
 * Whether a push or pull request starts a build (`on:`), and whether a stage
 * runs in it (`if:`). Semantics follow GitHub Actions so a user's habits carry
 * over (https://docs.github.com/en/actions/writing-workflows/workflow-syntax-for-github-actions#onpushpull_requestpull_request_targetpathspaths-ignore):
 *
 * - `push` filters on the pushed branch; `pull_request` on the pull request's
 *   BASE branch (the branch it would merge into).
 * - Globs: `*` stays inside one path segment, `**` crosses `/`; a pattern
 *   starting with `!` excludes what earlier patterns matched (order matters).
 * - `paths` builds when ANY changed file matches; `paths-ignore` skips only
 *   when EVERY changed file is ignored. Path filters apply only when the list
 *   of changed files is known; when it is not (or is empty, as for a push
 *   that only creates a branch) the build runs.
 * - `[skip ci]`, `[ci skip]` or `[no ci]` anywhere in the head commit message
 *   (any case) skips it. The webhook drops such a push before a build starts;
 *   planning checks again with the same list (../webhook/skip-directive.ts),
 *   for builds that do not come through the webhook.
 */

export interface TriggerRequest {
  event: EventName;
  /** The pushed branch, or the pull request's head branch. */
  branch: string;
  /** For a pull request: the branch it targets. Branch filters use it. */
  baseBranch?: string;
  changedFiles?: string[];
  message: string;
}

export interface TriggerDecision {
  build: boolean;
  reason: string;
}

const GLOB_OPTIONS = { dot: true } as const;

export function matchesTriggers(on: Triggers, request: TriggerRequest): TriggerDecision {
  const marker = findSkipDirective(request.message);
  if (marker) return { build: false, reason: `the commit message contains ${marker}` };

  const filter: TriggerFilter | undefined = on[request.event];
  if (!filter) return { build: false, reason: `the pipeline file's "on" does not list ${request.event}` };

  const branch = filteredBranch(request);
  const branchLabel = request.event === 'pull_request' ? `base branch ${JSON.stringify(branch)}` : `branch ${JSON.stringify(branch)}`;
  if (filter.branches && !matchesInOrder(filter.branches, branch)) {
    return { build: false, reason: `${branchLabel} matches none of on.${request.event}.branches` };
  }
  if (filter.branchesIgnore && matchesInOrder(filter.branchesIgnore, branch)) {
    return { build: false, reason: `${branchLabel} matches on.${request.event}.branches-ignore` };
  }

  const files = request.changedFiles;
  if (files && files.length > 0) {
    if (filter.paths && !files.some((file) => matchesInOrder(filter.paths!, file))) {
      return { build: false, reason: `no changed file matches on.${request.event}.paths` };
    }
    if (filter.pathsIgnore && files.every((file) => matchesInOrder(filter.pathsIgnore!, file))) {
      return { build: false, reason: `every changed file matches on.${request.event}.paths-ignore` };
    }
  }
  return { build: true, reason: `${request.event} to ${branchLabel} matches on.${request.event}` };
}

/**
 * Whether a stage's `if:` holds. No condition always holds; an empty list
 * matches nothing. For a pull request, `branch` globs match the base branch
 * when it is given, like the trigger filters.
 */
export function matchesCondition(
  condition: StageCondition | undefined,
  context: { event: EventName; branch: string; baseBranch?: string },
): boolean {
  if (!condition) return true;
  if (condition.events && !condition.events.includes(context.event)) return false;
  if (condition.branches && !matchesInOrder(condition.branches, filteredBranch(context))) return false;
  return true;
}

function filteredBranch(request: { event: EventName; branch: string; baseBranch?: string }): string {
  return request.event === 'pull_request' && request.baseBranch !== undefined ? request.baseBranch : request.branch;
}

/** GitHub's rule: patterns apply in order; a `!pattern` un-matches what came before. */
function matchesInOrder(patterns: readonly string[], subject: string): boolean {
  let matched = false;
  for (const pattern of patterns) {
    if (pattern.startsWith('!')) {
      if (matched && picomatch.isMatch(subject, pattern.slice(1), GLOB_OPTIONS)) matched = false;
    } else if (!matched && picomatch.isMatch(subject, pattern, GLOB_OPTIONS)) {
      matched = true;
    }
  }
  return matched;
}
