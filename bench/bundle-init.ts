/**
 * bundle and init: for every AWS::Serverless::Function in template.yaml, the minified
 * esbuild bundle `sam build` would deploy (scripts/bundle.mjs, the template's
 * BuildProperties) and its cold init time: a fresh `node` process requiring the handler
 * bundle, median of several runs. Baseline: a bundle of nothing but `@aws-sdk/client-sns`,
 * built with the same options, loaded the same way.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
// @ts-expect-error: plain JavaScript module without type declarations
import { bundleFunction, FUNCTIONS } from '../scripts/bundle.mjs';
import { ROOT } from './lib/child.js';
import { below, type Figure, type SectionResult } from './lib/figure.js';
import { median, msSince, ratio, round } from './lib/stats.js';

export const INIT_RUNS = 9;
const PROBE = join(ROOT, 'bench', 'workers', 'init-probe.cjs');

interface TemplateFunction {
  logicalId: string;
  handler: string;
  entryPoints: string[];
}

interface Probe {
  requireMs: number;
  requireCpuMs: number;
  sinceProcessStartMs: number;
  rssMiB: number;
}

interface InitTiming {
  /** Median wall time of the require. */
  requireMs: number;
  /** The fastest run: the one other load on the machine disturbed least. */
  requireMinMs: number;
  /** Median CPU time (user + system, all threads) of the require. */
  requireCpuMs: number;
  processMs: number;
  rssMiB: number;
}

/** Roughly what Lambda puts in a function's environment; no credentials are needed to load a module. */
function lambdaLikeEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_LAMBDA_FUNCTION_NAME: 'bench',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '1024',
    NODE_ENV: 'production',
  };
}

function probeOnce(bundle: string): Promise<Probe & { processMs: number }> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, [PROBE, bundle], { env: lambdaLikeEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = msSince(started);
      if (code !== 0) return reject(new Error(`loading ${bundle} failed: ${err.trim()}`));
      resolve({ ...(JSON.parse(out) as Probe), processMs });
    });
  });
}

/**
 * Median of INIT_RUNS fresh processes per bundle, after one unmeasured round that warms the
 * file cache. Rounds go through every bundle in turn, so load from anything else on the
 * machine falls on all of them alike.
 */
async function coldInits(bundles: string[]): Promise<Map<string, InitTiming>> {
  for (const bundle of bundles) await probeOnce(bundle);
  const runs = new Map<string, Array<Probe & { processMs: number }>>(bundles.map((bundle) => [bundle, []]));
  for (let i = 0; i < INIT_RUNS; i += 1) {
    for (const bundle of bundles) runs.get(bundle)!.push(await probeOnce(bundle));
  }
  return new Map(
    [...runs].map(([bundle, samples]) => [
      bundle,
      {
        requireMs: round(median(samples.map((r) => r.requireMs))),
        requireMinMs: round(Math.min(...samples.map((r) => r.requireMs))),
        requireCpuMs: round(median(samples.map((r) => r.requireCpuMs))),
        processMs: round(median(samples.map((r) => r.processMs))),
        rssMiB: round(median(samples.map((r) => r.rssMiB))),
      },
    ]),
  );
}

/** The baseline bundle: the SNS client alone, with the template's options. */
async function snsBundle(out: string): Promise<string> {
  const file = join(out, 'sns-only', 'index.js');
  await build({
    stdin: { contents: "export { SNSClient, PublishCommand } from '@aws-sdk/client-sns';", resolveDir: ROOT, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node22',
    minify: true,
    keepNames: true,
    outfile: file,
    logLevel: 'warning',
  });
  return file;
}

/** An empty module: what starting Node alone costs, for reading the process times. */
async function emptyModule(out: string): Promise<string> {
  const file = join(out, 'empty.js');
  await writeFile(file, 'module.exports = {};\n');
  return file;
}

export async function benchBundleAndInit(): Promise<SectionResult> {
  const out = await mkdtemp(join(tmpdir(), 'bench-bundles-'));
  try {
    // As in Lambda's deployment package, no "type": "module" applies to the bundles.
    await writeFile(join(out, 'package.json'), '{ "type": "commonjs" }\n');
    const sns = await snsBundle(out);
    const snsSize = (await stat(sns)).size;
    const empty = await emptyModule(out);

    const functions = FUNCTIONS as TemplateFunction[];
    const bundled: Array<{ logicalId: string; handlerFile: string; path: string; hash: string; bytes: number; totalBytes: number }> = [];
    for (const fn of functions) {
      const result = (await bundleFunction(fn, out)) as { outdir: string; outputs: string[] };
      const dot = fn.handler.lastIndexOf('.');
      const handlerFile = `${fn.handler.slice(0, dot)}.js`;
      const path = join(result.outdir, handlerFile);
      const code = await readFile(path);
      let totalBytes = 0;
      for (const output of result.outputs.filter((o) => o.endsWith('.js'))) totalBytes += (await stat(join(ROOT, output))).size;
      bundled.push({ logicalId: fn.logicalId, handlerFile, path, hash: createHash('sha256').update(code).digest('hex'), bytes: code.length, totalBytes });
    }
    // The six runner tiers deploy the same bundle: load each distinct bundle once.
    const distinct = bundled.filter((row, index) => bundled.findIndex((other) => other.hash === row.hash) === index);
    const timings = await coldInits([sns, empty, ...distinct.map((row) => row.path)]);
    const snsInit = timings.get(sns)!;
    const emptyInit = timings.get(empty)!;
    const rows = bundled.map((row) => {
      const first = distinct.find((other) => other.hash === row.hash)!;
      return {
        logicalId: row.logicalId,
        handlerFile: row.handlerFile,
        bytes: row.bytes,
        totalBytes: row.totalBytes,
        init: timings.get(first.path)!,
        ...(first.logicalId !== row.logicalId ? { sameBundleAs: first.logicalId } : {}),
      };
    });

    const figures: Figure[] = [];
    for (const row of rows) {
      if (row.sameBundleAs) continue;
      const twins = rows.filter((r) => r.sameBundleAs === row.logicalId).map((r) => r.logicalId);
      const name = twins.length > 0 ? `${row.logicalId} (same bundle as ${twins.length} others)` : row.logicalId;
      const extra = row.totalBytes > row.bytes ? `; ${round(row.totalBytes / 1024)} KiB with its other entry points` : '';
      figures.push({
        section: 'bundle',
        name,
        value: round(row.bytes / 1024),
        unit: 'KiB',
        how: `esbuild, minified, the template's BuildProperties (scripts/bundle.mjs): ${row.handlerFile}${extra}`,
        baseline: { name: 'bare @aws-sdk/client-sns bundle', value: round(snsSize / 1024), unit: 'KiB' },
        ratio: ratio(row.bytes, snsSize),
        goal: below(row.bytes, 1024 * 1024, '< 1 MiB'),
      });
      figures.push({
        section: 'init',
        name,
        value: row.init.requireMs,
        unit: 'ms',
        how: `require() of the bundle in a fresh node process, median wall time of ${INIT_RUNS} (fastest ${row.init.requireMinMs} ms, CPU ${row.init.requireCpuMs} ms; SNS alone: fastest ${snsInit.requireMinMs} ms, CPU ${snsInit.requireCpuMs} ms); the whole process took ${row.init.processMs} ms (an empty module: ${emptyInit.processMs} ms)`,
        baseline: { name: 'require() of a bare @aws-sdk/client-sns bundle', value: snsInit.requireMs, unit: 'ms' },
        ratio: ratio(row.init.requireMs, snsInit.requireMs),
        goal: below(row.init.requireMs, 300, '< 300 ms'),
      });
    }
    return {
      figures,
      details: {
        runsPerBundle: INIT_RUNS,
        snsOnly: { bytes: snsSize, init: snsInit },
        emptyModule: { init: emptyInit },
        functions: rows,
      },
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}
