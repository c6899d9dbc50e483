/**
 * How to start one of the farm's entry modules (`functions/local/NAME.entry.ts`: code the farm runs
 * as a process of its own, such as a build's child process) so that it runs the same code as the
 * process starting it: the bundled `dist/cli/NAME.mjs` (scripts/bundle.mjs bundles every
 * `*.entry.ts` beside the CLI) when this code runs from the bundle, else the TypeScript source
 * through tsx.
 */
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
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
  // tsx resolved from this package, not from the directory the user runs the farm in (Node resolves a
  // bare `--import` specifier against the working directory). Its "." export is the loader `--import` takes.
  const loader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  return { execArgv: ['--import', loader], module: farmFile('functions', 'local', `${name}.entry.ts`) };
}
