/**
 * How to start one of the farm's entry modules (`functions/local/NAME.entry.ts`: code the farm runs
 * as a process of its own, such as a build's child process) so that it runs the same code as the
 * process starting it: the bundled `dist/cli/NAME.mjs` (scripts/bundle.mjs bundles every
 * `*.entry.ts` beside the CLI) when this code runs from the bundle, else the TypeScript source
 * through tsx.
 */
import { fileURLToPath } from 'node:url';
import { farmFile } from './farm-files.js';

export interface EntryCommand {
  /** Node flags before the module (`--import tsx` for the sources). */
  execArgv: string[];
  module: string;
}

/** True when this module is part of the CLI bundle (dist/cli), not a TypeScript source. */
export function runningFromBundle(moduleUrl = import.meta.url): boolean {
  return fileURLToPath(moduleUrl).startsWith(farmFile('dist', 'cli'));
}

export function entryCommand(name: string, moduleUrl = import.meta.url): EntryCommand {
  if (runningFromBundle(moduleUrl)) return { execArgv: [], module: farmFile('dist', 'cli', `${name}.mjs`) };
  return { execArgv: ['--import', 'tsx'], module: farmFile('functions', 'local', `${name}.entry.ts`) };
}
