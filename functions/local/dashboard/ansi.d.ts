// Types of ansi.js for the tests (the dashboard itself is plain JavaScript, served as is).
export interface AnsiSegment {
  text: string;
  classes: string[];
}
export function ansiSegments(text: string): AnsiSegment[];
export function renderAnsi(target: { replaceChildren(...nodes: unknown[]): void }, text: string): void;
