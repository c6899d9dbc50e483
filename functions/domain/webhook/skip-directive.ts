/**
 * Commit-message directives that ask CI not to build this push, as GitHub
 * Actions understands them (case-insensitive here, to be forgiving).
 * https://docs.github.com/en/actions/managing-workflow-runs/skipping-workflow-runs
 */
const SKIP_DIRECTIVES = ['[skip ci]', '[ci skip]', '[no ci]'] as const;

/** The directive found in `message`, or undefined. */
export function findSkipDirective(message: string): string | undefined {
  const lower = message.toLowerCase();
  return SKIP_DIRECTIVES.find((directive) => lower.includes(directive));
}
