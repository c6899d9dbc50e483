import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hasDotSegment, openDataDirectory, workRootFor } from '../../functions/local/data-directory.js';

let cwd: string;
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const exists = (path: string) => stat(path).then(() => true, () => false);

describe('Function: openDataDirectory', () => {
  it('defaults to ./buildfarm-data, which ignores itself for git', async () => {
    cwd = await mkdtemp(join(tmpdir(), 'data-dir-'));
    const opened = await openDataDirectory(undefined, cwd);
    expect(opened).toEqual({ path: join(cwd, 'buildfarm-data') });
    expect(await readFile(join(cwd, 'buildfarm-data', '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('moves the old default ./.buildfarm to ./buildfarm-data, with everything in it, and says so', async () => {
    // Prepare
    cwd = await mkdtemp(join(tmpdir(), 'data-dir-'));
    await mkdir(join(cwd, '.buildfarm', 'builds'), { recursive: true });
    await writeFile(join(cwd, '.buildfarm', 'builds', 'b1.json'), '{}');
    // Act
    const opened = await openDataDirectory(undefined, cwd);
    // Assess
    expect(opened.path).toBe(join(cwd, 'buildfarm-data'));
    expect(opened.note).toMatch(/moved \.buildfarm\/ to buildfarm-data\//);
    expect(await readFile(join(cwd, 'buildfarm-data', 'builds', 'b1.json'), 'utf8')).toBe('{}');
    expect(await exists(join(cwd, '.buildfarm'))).toBe(false);
  });

  it('keeps the old default in place while a farm serves it (its pid file names a live process)', async () => {
    // Prepare: this test's parent process stands in for the running farm
    cwd = await mkdtemp(join(tmpdir(), 'data-dir-'));
    await mkdir(join(cwd, '.buildfarm'));
    await writeFile(join(cwd, '.buildfarm', 'serve.pid'), `${process.ppid}\n`);
    // Act
    const opened = await openDataDirectory(undefined, cwd);
    // Assess
    expect(opened.path).toBe(join(cwd, '.buildfarm'));
    expect(opened.note).toContain(`buildfarm serve (pid ${process.ppid}) runs on it`);
  });

  it('uses a named directory as named, even a hidden one', async () => {
    cwd = await mkdtemp(join(tmpdir(), 'data-dir-'));
    await mkdir(join(cwd, '.buildfarm'));
    expect(await openDataDirectory('.buildfarm', cwd)).toEqual({ path: join(cwd, '.buildfarm') });
  });
});

describe('Function: workRootFor (where stages work)', () => {
  it('is DIR/work when no segment of DIR is hidden', () => {
    cwd = '/nonexistent';
    expect(workRootFor('/home/u/proj/buildfarm-data')).toBe('/home/u/proj/buildfarm-data/work');
  });

  it('is a folder of the OS temporary directory, the same for the same DIR, when DIR has a dot segment', () => {
    cwd = '/nonexistent';
    const root = workRootFor('/home/u/.cache/farm', '/tmp');
    expect(root).toMatch(/^\/tmp\/buildfarm-work-[0-9a-f]{12}$/);
    expect(hasDotSegment(root)).toBe(false);
    expect(workRootFor('/home/u/.cache/farm', '/tmp')).toBe(root);
    expect(workRootFor('/home/u/.cache/other', '/tmp')).not.toBe(root);
  });
});
