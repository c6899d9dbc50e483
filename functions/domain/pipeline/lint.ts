/**
 * Checks that need the parsed pipeline as a whole: the `needs` graph, sizes
 * no runner can provide, and combinations a runner cannot honour. One rule per
 * entry; each message says what is wrong and what is allowed. Limits that
 * depend on the farm's configuration (its Lambda /tmp size) belong to the
 * planner, not here.
 */
import type { PipelineIssue } from '../errors.js';
import type { FieldSites } from './field-sites.js';
import { ARTIFACT_PATH_LINT_RULE } from './lint-artifacts.js';
import { CACHE_LINT_RULES } from './lint-cache.js';
import { LAMBDA_LINT_RULES } from './lint-lambda.js';
import { ENV_LINT_RULES, STAGE_NAME_LINT_RULE } from './lint-names.js';
import { NEEDS_LINT_RULES } from './lint-needs.js';
import type { LintRule } from './lint-rule.js';
import { SIZE_LINT_RULES } from './lint-sizes.js';
import type { Pipeline } from './types.js';

export const LINT_RULES: readonly LintRule[] = [
  STAGE_NAME_LINT_RULE,
  ...NEEDS_LINT_RULES,
  ...SIZE_LINT_RULES,
  ...LAMBDA_LINT_RULES,
  ...ENV_LINT_RULES,
  ARTIFACT_PATH_LINT_RULE,
  ...CACHE_LINT_RULES,
];

/** Runs every rule; issues come back in rule order (parsePipeline sorts them by position). */
export function lintPipeline(pipeline: Pipeline, sites: FieldSites): PipelineIssue[] {
  return LINT_RULES.flatMap((rule) => rule.check(pipeline, sites));
}
