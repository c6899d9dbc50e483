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
  const line = issue.path ? `${where} ${issue.path}: ${issue.message}` : `${where} ${issue.message}`;
  return escapeControlCharacters(line);
}

/**
 * Paths and messages quote the user's keys (stage names) as written: a key holding a newline, NUL or
 * terminal escape would forge extra issue lines or drive the terminal showing the log. One issue is
 * one line, with control characters written as JSON escapes.
 */
function escapeControlCharacters(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => SHORT_ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

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
