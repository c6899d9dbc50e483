/**
 * No code of the farm turns on Node's promise hooks. In Node 22 the first AsyncLocalStorage `run`
 * (or any async_hooks hook) makes every promise of the process tracked from then on: the local
 * farm's s3rver patches once carried their per-request state that way, and it cost `buildfarm run`
 * 10 to 16 % of its CPU time (the AWS SDK, the state machine and the stage agents are all promises).
 * Per-request state goes on the request instead (adapters/local/s3rver-request-context.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..', '..');

async function* sources(directory: string): AsyncGenerator<string> {
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

describe('The farm\'s code and promise hooks', () => {
  it('imports node:async_hooks nowhere (no AsyncLocalStorage, no createHook)', async () => {
    // Act
    const users: string[] = [];
    for await (const file of sources(join(ROOT, 'functions'))) {
      const text = await readFile(file, 'utf8');
      if (/from ['"](node:)?async_hooks['"]|require\(['"](node:)?async_hooks['"]\)|import\(['"](node:)?async_hooks['"]\)/.test(text)) users.push(relative(ROOT, file));
    }

    // Assess
    expect(users).toEqual([]);
  });
});
