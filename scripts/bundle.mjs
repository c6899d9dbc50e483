#!/usr/bin/env node
/**
 * Bundles every Lambda function of template.yaml into dist/, with the same esbuild
 * options `sam build` uses for them (the template's BuildProperties on top of SAM's
 * fixed --bundle --platform=node --outdir), so what benchmarks and local checks load
 * is what Lambda runs. The template is the single list of functions: a new function
 * there is bundled here too.
 *
 *   node scripts/bundle.mjs            bundles into dist/<LogicalId>/
 *   import { FUNCTIONS, HANDLER_ENTRY_POINTS, bundleAll } from './scripts/bundle.mjs'
 */
import { readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { yamlParse } from 'yaml-cfn';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');

/** SAM spells BuildProperties in PascalCase; esbuild's JS API takes camelCase. */
function esbuildOptions(properties) {
  const format = properties.Format ?? 'cjs';
  const outExtension = Object.fromEntries(
    (properties.OutExtension ?? []).map((pair) => pair.split('=')).map(([from, to]) => [from, to]),
  );
  return {
    bundle: true,
    platform: 'node',
    format,
    target: properties.Target ?? 'es2020',
    minify: properties.Minify ?? true,
    sourcemap: properties.Sourcemap ?? false,
    keepNames: properties.KeepNames ?? false,
    external: properties.External ?? [],
    ...(Object.keys(outExtension).length > 0 ? { outExtension } : {}),
    logLevel: 'warning',
  };
}

/**
 * The file esbuild writes for an entry point: with several entry points, their paths
 * below their lowest common folder are kept (esbuild's default outbase).
 */
export function outputModuleOf(entryPoints, entryPoint) {
  const dirs = entryPoints.map((entry) => dirname(resolve(ROOT, entry)).split(sep));
  let common = dirs[0] ?? [];
  for (const parts of dirs.slice(1)) {
    let shared = 0;
    while (shared < common.length && shared < parts.length && common[shared] === parts[shared]) shared += 1;
    common = common.slice(0, shared);
  }
  const rel = relative(common.join(sep) || sep, resolve(ROOT, entryPoint));
  return rel.replace(/\.[cm]?[jt]s$/, '').split(sep).join('/');
}

/** Every AWS::Serverless::Function with its handler and entry points. */
export function functionsOf(templateText) {
  const template = yamlParse(templateText);
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::Serverless::Function')
    .map(([logicalId, resource]) => {
      const properties = resource.Metadata?.BuildProperties ?? {};
      const entryPoints = properties.EntryPoints ?? [];
      return {
        logicalId,
        handler: resource.Properties.Handler,
        entryPoints,
        buildMethod: resource.Metadata?.BuildMethod,
        buildProperties: properties,
      };
    });
}

export const FUNCTIONS = functionsOf(readFileSync(join(ROOT, 'template.yaml'), 'utf8'));

/** Every entry point the template bundles (handlers and the Fargate helper), for benchmarks. */
export const HANDLER_ENTRY_POINTS = [...new Set(FUNCTIONS.flatMap((fn) => fn.entryPoints))];

export async function bundleFunction(fn, outRoot = DIST) {
  const outdir = join(outRoot, fn.logicalId);
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    ...esbuildOptions(fn.buildProperties),
    absWorkingDir: ROOT,
    entryPoints: fn.entryPoints,
    outdir,
    metafile: true,
  });
  return { logicalId: fn.logicalId, outdir, warnings: result.warnings, outputs: Object.keys(result.metafile.outputs) };
}

/**
 * Lambda's deployment package has no package.json, so `.js` is CommonJS there; here the
 * project's `"type": "module"` would apply, so dist/ gets its own marker.
 */
async function markCommonJs(outRoot) {
  await mkdir(outRoot, { recursive: true });
  await writeFile(join(outRoot, 'package.json'), '{ "type": "commonjs" }\n');
}

export async function bundleAll(outRoot = DIST) {
  await markCommonJs(outRoot);
  const results = [];
  // One at a time: the machine has two cores and esbuild already uses them.
  for (const fn of FUNCTIONS) results.push(await bundleFunction(fn, outRoot));
  return results;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const results = await bundleAll();
  for (const r of results) console.log(`${r.logicalId}: ${r.outputs.filter((o) => !o.endsWith('.map')).join(', ')}`);
}
