/**
 * What every load script shares: figures printed as JSON lines, assertions
 * collected (a run reports all that failed, not just the first), and the
 * `npx tsx test/hostile/load/X.ts` entry that exits 1 on any failure.
 */
import { pathToFileURL } from 'node:url';

export interface Outcome {
  /** The figures measured, one object per line of output. */
  figures: Record<string, unknown>[];
  failures: string[];
}

export class Checks implements Outcome {
  readonly figures: Record<string, unknown>[] = [];
  readonly failures: string[] = [];
  constructor(private readonly script: string, private readonly print = false) {}

  figure(figure: Record<string, unknown>): void {
    const line = { script: this.script, ...figure };
    this.figures.push(line);
    if (this.print) process.stdout.write(`${JSON.stringify(line)}\n`);
  }

  check(ok: boolean, failure: string): void {
    if (ok) return;
    this.failures.push(failure);
    if (this.print) process.stdout.write(`${JSON.stringify({ script: this.script, failed: failure })}\n`);
  }
}

/** True when `moduleUrl` is the script node was asked to run (not imported by a test). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(process.argv[1]).href === moduleUrl;
}

/** Runs a script's main and exits 1 when it failed an assertion or threw. */
export function runMain(main: () => Promise<Outcome>): void {
  main().then(
    (outcome) => {
      process.stdout.write(`${JSON.stringify({ done: true, failures: outcome.failures.length })}\n`);
      process.exit(outcome.failures.length === 0 ? 0 : 1);
    },
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}

/** A number from the environment (for reduced runs), else `fallback`. */
export function numberFrom(name: string, fallback: number): number {
  const text = process.env[name];
  return text === undefined || text === '' ? fallback : Number(text);
}
