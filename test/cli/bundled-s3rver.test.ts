/**
 * s3rver is part of the CLI bundle (scripts/bundle.mjs; issue 12's fixed overhead: one chunk read,
 * not ~150 CommonJS files resolved and wrapped one by one), in a chunk of its own that loads only
 * when an embedded S3 starts (test/cli/lazy-loading.test.ts). The farm patches s3rver's server, and
 * the full-disk patch throws s3rver's own error class: it must be the bundled copy's class, or
 * s3rver answers "We encountered an internal error" in place of the farm's reason. Tried on the
 * bundle the test run built (test/support/build-cli.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const DIST = resolve(import.meta.dirname, '../../dist/cli');

/** Every ES module of the bundle, by its path under dist/cli, with its code. */
async function bundleModules(): Promise<Map<string, string>> {
  const files = [
    ...(await readdir(DIST)).filter((name) => name.endsWith('.mjs')),
    ...(await readdir(join(DIST, 'chunks'))).filter((name) => name.endsWith('.mjs')).map((name) => join('chunks', name)),
  ];
  return new Map(await Promise.all(files.map(async (name) => [name, await readFile(join(DIST, name), 'utf8')] as const)));
}

describe('the CLI bundle carries s3rver', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'bundled-s3rver-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('has s3rver in a chunk of its own, and nothing imports it from node_modules', async () => {
    // Prepare
    const modules = await bundleModules();
    // Assess: esbuild names every bundled file in a comment
    const holders = [...modules].filter(([, code]) => code.includes('// node_modules/s3rver/lib/s3rver.js')).map(([name]) => name);
    expect(holders).toEqual([expect.stringMatching(/^chunks\/s3rver-[A-Z0-9]+\.mjs$/)]);
    for (const [name, code] of modules) expect(code, name).not.toMatch(/from\s*["']s3rver|import\(\s*["']s3rver|require\(\s*["']s3rver/);
  });

  it("answers a failed write with the farm's reason, through the bundled s3rver's own error class", async () => {
    // Prepare: the bundled embedded S3, in a process of its own; a file where s3rver needs a folder
    const modules = await bundleModules();
    const chunk = [...modules.keys()].find((name) => /^chunks\/embedded-s3-[A-Z0-9]+\.mjs$/.test(name));
    expect(chunk).toBeDefined();
    const script = `
      import { mkdir, writeFile } from 'node:fs/promises';
      import { join } from 'node:path';
      const { startEmbeddedS3 } = await import(process.env.CHUNK);
      const s3 = await startEmbeddedS3(process.env.S3_DIR);
      await mkdir(join(process.env.S3_DIR, s3.bucket), { recursive: true });
      await writeFile(join(process.env.S3_DIR, s3.bucket, 'blocked'), 'a file, not a folder');
      try {
        await s3.store.put('blocked/object.txt', 'hello');
        console.log('stored');
      } catch (error) {
        console.log(error.message);
      } finally {
        await s3.close();
      }`;
    // Act
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, CHUNK: pathToFileURL(join(DIST, chunk!)).href, S3_DIR: join(directory, 's3') },
      timeout: 60_000,
    });
    // Assess: the patch's message, rendered by s3rver as S3's InvalidArgument
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toMatch(/key blocked\/object\.txt: a folder on its path is a file in the local farm's S3/);
    expect(child.stdout).not.toMatch(/We encountered an internal error/);
  }, 90_000);

  it('answers a browser form upload (POST Object, left out of the bundle) with an error, and serves on', async () => {
    // Prepare: the bundled embedded S3, in a process of its own
    const modules = await bundleModules();
    const chunk = [...modules.keys()].find((name) => /^chunks\/embedded-s3-[A-Z0-9]+\.mjs$/.test(name));
    const script = `
      const { startEmbeddedS3 } = await import(process.env.CHUNK);
      const s3 = await startEmbeddedS3(process.env.S3_DIR);
      const form = new FormData();
      form.append('key', 'posted.txt');
      form.append('file', new Blob(['hello']), 'posted.txt');
      const posted = await fetch(s3.endpoint + '/' + s3.bucket, { method: 'POST', body: form });
      await s3.store.put('put.txt', 'still serving');
      console.log(JSON.stringify({ status: posted.status, put: await s3.store.getText('put.txt'), posted: await s3.store.getText('posted.txt') ?? null }));
      await s3.close();`;
    // Act
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, CHUNK: pathToFileURL(join(DIST, chunk!)).href, S3_DIR: join(directory, 's3-post') },
      timeout: 60_000,
    });
    // Assess
    expect(child.status, child.stderr).toBe(0);
    const answer = JSON.parse(child.stdout) as { status: number; put: string; posted: string | null };
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer).toMatchObject({ put: 'still serving', posted: null });
  }, 90_000);
});
