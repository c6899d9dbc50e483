/**
 * The CLI loads only what a command uses (issue 12's fixed overhead: loading modules was most of
 * `buildfarm run`'s start). s3rver and its Koa stack, a third of the loading, load only when an
 * embedded S3 starts: not for `--help`, `validate`, or `plan` without a data directory. Tried on
 * the bundle the test run built (test/support/build-cli.ts), with a preload that lists every module
 * the process loaded: CommonJS ones (require.cache) and ES modules (a module.registerHooks load
 * hook, Node >= 22.15), since s3rver is now a chunk of the bundle (dist/cli/chunks/s3rver-*.mjs).
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
let directory: string;

/** The CommonJS modules `buildfarm ARGS` loaded (their paths), with its exit status. */
async function loadedBy(args: string[]): Promise<{ status: number | null; stderr: string; loaded: string[] }> {
  const report = join(directory, `loaded-${args.join('-').replace(/[^a-z]/g, '')}.json`);
  const child = spawnSync(process.execPath, ['--require', join(directory, 'list-loaded.cjs'), join(ROOT, 'bin', 'buildfarm.mjs'), ...args], {
    cwd: directory,
    encoding: 'utf8',
    env: { ...process.env, BUILDFARM_CLI: 'bundle', LOADED_REPORT: report },
  });
  return { status: child.status, stderr: child.stderr, loaded: JSON.parse(await readFile(report, 'utf8')) as string[] };
}

/** s3rver's code among the loaded modules: its bundled chunk, or its files in node_modules. */
const s3rverModules = (loaded: string[]) => loaded.filter((path) => path.includes(`${join('node_modules', 's3rver')}/`) || /\/dist\/cli\/chunks\/s3rver-[A-Z0-9]+\.mjs$/.test(path));

describe('the CLI loads s3rver only when an embedded S3 starts', () => {
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'cli-lazy-'));
    await writeFile(
      join(directory, 'list-loaded.cjs'),
      "const esm = [];\n" +
        "require('node:module').registerHooks({ load(url, context, next) { esm.push(url.startsWith('file:') ? require('node:url').fileURLToPath(url) : url); return next(url, context); } });\n" +
        "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_REPORT, JSON.stringify([...Object.keys(require.cache), ...esm])));\n",
    );
    await writeFile(join(directory, '.buildfarm.yml'), 'version: 1\nstages:\n  only:\n    commands:\n      - "true"\n');
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('`run --help` does not load it', async () => {
    const run = await loadedBy(['run', '--help']);
    expect(run.status).toBe(0);
    expect(s3rverModules(run.loaded)).toEqual([]);
  });

  it('`validate` and `plan` without a data directory do not load it', async () => {
    const validate = await loadedBy(['validate']);
    expect(validate.status, validate.stderr).toBe(0);
    expect(s3rverModules(validate.loaded)).toEqual([]);
    const plan = await loadedBy(['plan', '--data-dir', join(directory, 'none')]);
    expect(plan.status, plan.stderr).toBe(0);
    expect(s3rverModules(plan.loaded)).toEqual([]);
  });

  it('`run --help` loads no YAML parser (no chunk carrying the yaml package); `validate` does (so its absence means something)', async () => {
    const help = await loadedBy(['run', '--help']);
    expect(help.status).toBe(0);
    expect(await bundledPackagesIn(help.loaded)).not.toContain('yaml');
    const validate = await loadedBy(['validate']);
    expect(validate.status, validate.stderr).toBe(0);
    expect(await bundledPackagesIn(validate.loaded)).toContain('yaml');
  });

  it('`plan` with a data directory loads it, to read the stage history through the embedded S3', async () => {
    // Prepare: a data directory with an S3 folder, as `buildfarm run` leaves one
    await mkdir(join(directory, 'data', 's3'), { recursive: true });
    // Act
    const plan = await loadedBy(['plan', '--data-dir', join(directory, 'data')]);
    // Assess: the preload sees s3rver when it is used (so its absence above means something)
    expect(plan.status, plan.stderr).toBe(0);
    expect(s3rverModules(plan.loaded).length).toBeGreaterThan(0);
    expect(plan.loaded.some((path) => path.includes('/dist/cli/chunks/'))).toBe(true);
  });
});

/** The bundled packages the loaded chunks carry (esbuild's `// node_modules/NAME/...` marks). */
async function bundledPackagesIn(loaded: string[]): Promise<Set<string>> {
  const packages = new Set<string>();
  for (const path of loaded.filter((p) => /\/dist\/cli\/(chunks\/)?[^/]+\.mjs$/.test(p))) {
    for (const match of (await readFile(path, 'utf8')).matchAll(/^\/\/ node_modules\/((?:@[^/]+\/)?[^/]+)\//gm)) packages.add(match[1]!);
  }
  return packages;
}

describe('the CLI bundle leaves asl-validator out (the farm never validates the definition at run time)', () => {
  it('carries neither asl-validator nor ajv and jsonata, only a stand-in that fails loudly', async () => {
    // Prepare: every module of the bundle the test run built
    const chunks = join(ROOT, 'dist', 'cli', 'chunks');
    const files = (await readdir(chunks)).filter((name) => name.endsWith('.mjs'));
    const code = (await Promise.all(files.map((name) => readFile(join(chunks, name), 'utf8')))).join('\n');
    // Assess: esbuild names every bundled file in a comment; none of the validator's is there
    expect(code).toContain('// node_modules/aws-local-stepfunctions/');
    for (const validator of ['asl-validator', 'ajv', 'jsonata', 'asl-path-validator']) expect(code).not.toContain(`// node_modules/${validator}/`);
    expect(code).toContain('asl-validator is not in the CLI bundle');
  });
});

describe('the CLI bundle leaves out code only an unused path needs (issue 12 fixed overhead)', () => {
  async function bundledCode(): Promise<string> {
    const chunks = join(ROOT, 'dist', 'cli', 'chunks');
    const files = (await readdir(chunks)).filter((name) => name.endsWith('.mjs'));
    return (await Promise.all(files.map((name) => readFile(join(chunks, name), 'utf8')))).join('\n');
  }

  it("carries not the interpreter's AWS Lambda client and credential providers, only stand-ins that fail loudly", async () => {
    const code = await bundledCode();
    expect(code).toContain('// node_modules/aws-local-stepfunctions/');
    for (const client of ['@aws-sdk/client-lambda', '@aws-sdk/credential-providers', '@aws-sdk/credential-provider-cognito-identity']) expect(code).not.toContain(`// node_modules/${client}/`);
    expect(code).toContain('aws-local-stepfunctions never calls AWS Lambda in the CLI bundle');
  });

  it("carries not s3rver's busboy (POST Object, a browser form's upload), only a stand-in that fails loudly", async () => {
    const code = await bundledCode();
    expect(code).toContain('// node_modules/s3rver/');
    expect(code).not.toContain('// node_modules/busboy/');
    expect(code).toContain('takes no browser form uploads');
  });
});
