/**
 * Error names are API: Step Functions routes `Catch`/`Retry` on `error.name`,
 * so every class sets a literal name (and bundles keep names).
 */

/** Where in a user's file a problem is. */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

/** One problem in a pipeline file. */
export interface PipelineIssue extends SourceLocation {
  /** Dotted field path, e.g. `stages.test.resources.memory`. */
  path: string;
  /** What is wrong, e.g. `"200GB" is above the largest Fargate size (120 GiB)`. */
  message: string;
}

export function formatIssue(issue: PipelineIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  return issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
}

/** A user error in the pipeline file: never shown with a stack trace. */
export class PipelineInvalid extends Error {
  override readonly name = 'PipelineInvalid';
  constructor(readonly issues: PipelineIssue[]) {
    super(issues.map(formatIssue).join('\n'));
  }
}

/** Base for errors a user caused (bad input); the CLI prints the message only. */
export class UserError extends Error {
  override name = 'UserError';
}
