/**
 * The CLI's commands agree: one data directory flag, unknown flags named with a pointer to --help,
 * `validate DIR` and several files, and `run` on a missing directory saying so.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

function tempDir(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bf-consistency-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

const VALID = 'version: 1\nstages:\n  a: { commands: [make] }\n';
const INVALID = 'version: 1\nstages:\n  a: { commands: [make], needs: [ghost] }\n';

describe('CLI: unknown flags', () => {
  it.each(['validate', 'plan', 'run', 'serve', 'gc'])('%s names the flag and points to its --help', async (command) => {
    const run = await runCli([command, '--no-such-flag']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`buildfarm ${command}: unknown option --no-such-flag (see 'buildfarm ${command} --help' for its options)\n`);
  });

  it('says which flag lacks its value', async () => {
    const run = await runCli(['serve', '--port']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^buildfarm serve: Option '--port <value>' argument missing \(see 'buildfarm serve --help'\)/);
  });
});

describe('CLI: --data-dir on every command that keeps data', () => {
  it.each(['run', 'serve', 'gc'])('%s lists --data-dir in its help', async (command) => {
    expect((await runCli([command, '--help'])).stdout).toContain('--data-dir DIR');
  });

  it('gc takes --data-dir and the old spelling --data alike', async () => {
    const dir = tempDir({});
    expect(await runCli(['gc', '--data-dir', path.join(dir, 'a'), '--dry-run'])).toMatchObject({ code: 0 });
    expect(await runCli(['gc', '--data', path.join(dir, 'b'), '--dry-run'])).toMatchObject({ code: 0 });
  });
});

describe('CLI: buildfarm validate DIR and several files', () => {
  it('looks for the pipeline file in a directory', async () => {
    const dir = tempDir({ '.buildfarm.yml': VALID });
    const run = await runCli(['validate', dir]);
    expect(run).toMatchObject({ code: 0, stdout: `${path.join(dir, '.buildfarm.yml')} is valid: 1 stage in 1 wave\n` });
  });

  it('validates every file given, reporting each, and exits 1 when one is invalid', async () => {
    const dir = tempDir({ 'a.yml': VALID, 'b.yml': INVALID, 'c.yml': VALID });
    const run = await runCli(['validate', 'a.yml', 'b.yml', 'c.yml'], { cwd: dir });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('a.yml is valid: 1 stage in 1 wave\nc.yml is valid: 1 stage in 1 wave\n');
    expect(run.stderr).toMatch(/^b\.yml:3:\d+ stages\.a\.needs.*ghost/);
  });

  it('plan looks in a directory too', async () => {
    const dir = tempDir({ '.buildfarm.yml': VALID });
    expect((await runCli(['plan', dir])).code).toBe(0);
  });
});

describe('CLI: buildfarm run DIR', () => {
  it('says the directory is missing, not that git is', async () => {
    const missing = path.join(tmpdir(), 'bf-no-such-directory', 'repo');
    const run = await runCli(['run', missing]);
    expect(run).toMatchObject({ code: 1, stderr: `${missing}: no such directory\n` });
  });

  it('says a file is not a directory', async () => {
    const dir = tempDir({ 'file.txt': 'x' });
    const run = await runCli(['run', path.join(dir, 'file.txt')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not a directory');
  });
});
