/**
 * How Node must run a build's child process: the bundled `dist/cli/build-process.mjs` when the
 * farm runs from the CLI bundle, else the TypeScript entry through tsx (farm-entry.ts decides,
 * for every entry module alike).
 */
import { entryCommand } from '../farm-entry.js';

export interface BuildProcessEntry {
  /** The module `child_process.fork` runs. */
  module: string;
  /** Node options for it (never the parent's own: a test runner's flags must not leak in). */
  execArgv: string[];
}

export function buildProcessEntry(): BuildProcessEntry {
  return entryCommand('build-process');
}
