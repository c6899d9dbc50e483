import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entryCommand } from '../../functions/local/farm-entry.js';
import { FARM_ROOT } from '../../functions/local/farm-files.js';

describe('Function: entryCommand (a farm entry module started as a process)', () => {
  it('runs the TypeScript source through tsx when the caller runs from the sources', () => {
    const command = entryCommand('build-child');
    expect(command.module).toBe(join(FARM_ROOT, 'functions', 'local', 'build-child.entry.ts'));
    // tsx's loader by absolute URL: a user's working directory has no tsx to resolve.
    expect(command.execArgv).toEqual(['--import', expect.stringMatching(/^file:\/\/.*\/node_modules\/tsx\/.*loader/)]);
  });

  it('runs the bundled module when the caller runs from the CLI bundle', () => {
    const bundledCaller = pathToFileURL(join(FARM_ROOT, 'dist', 'cli', 'chunks', 'chunk-ABC.mjs')).href;
    expect(entryCommand('build-child', bundledCaller)).toEqual({ execArgv: [], module: join(FARM_ROOT, 'dist', 'cli', 'build-child.mjs') });
  });
});

describe('Function: cliEntryPoints (scripts/bundle.mjs)', () => {
  it('bundles every functions/local/*.entry.ts beside the CLI, named after it', async () => {
    const { mkdtemp, mkdir, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    // @ts-expect-error: a plain .mjs script without types.
    const { cliEntryPoints } = await import('../../scripts/bundle.mjs');
    const root = await mkdtemp(join(tmpdir(), 'entries-'));
    await mkdir(join(root, 'functions', 'local'), { recursive: true });
    await writeFile(join(root, 'functions', 'local', 'build-child.entry.ts'), '');
    await writeFile(join(root, 'functions', 'local', 'farm.ts'), '');
    expect(cliEntryPoints(root)).toEqual({ main: 'functions/cli/main.ts', 'build-child': 'functions/local/build-child.entry.ts' });
    await rm(root, { recursive: true });
  });
});
