#!/usr/bin/env node
/**
 * Bundles every Lambda function of template.yaml into dist/, with the same esbuild
 * options `sam build` uses for them (the template's BuildProperties on top of SAM's
 * fixed --bundle --platform=node --outdir), so what benchmarks and local checks load
 * is what Lambda runs. The template is the single list of functions: a new function
 * there is bundled here too.
 *
 * It also bundles the CLI (bin/buildfarm.mjs runs dist/cli/main.mjs when it is fresh, so
 * `buildfarm run` compiles no TypeScript at start): see bundleCli below.
 *
 *   node scripts/bundle.mjs            bundles into dist/<LogicalId>/ and dist/cli/
 *   node scripts/bundle.mjs --cli      only the CLI (what `npm test` does first)
 *   import { FUNCTIONS, HANDLER_ENTRY_POINTS, bundleAll, bundleCli } from './scripts/bundle.mjs'
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
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

export const CLI_DIST = join(DIST, 'cli');

/**
 * The CLI's entry points: its main module, and every `functions/local/*.entry.ts` (a module the
 * farm starts as a process of its own, such as a build's child process), each bundled to
 * dist/cli/<name>.mjs, where functions/local/farm-entry.ts (entryCommand) finds it.
 */
export function cliEntryPoints(root = ROOT) {
  const local = readdirSync(join(root, 'functions', 'local'))
    .filter((name) => name.endsWith('.entry.ts'))
    .map((name) => `functions/local/${name}`);
  return { main: 'functions/cli/main.ts', ...Object.fromEntries(local.map((entry) => [entry.slice('functions/local/'.length, -'.entry.ts'.length), entry])) };
}

/**
 * Bundles the CLI into dist/cli/ as ES modules, its packages included: loading the AWS SDK and the
 * rest from node_modules file by file took longer than the whole bundle. s3rver is bundled too
 * (since issue 12's second start-up pass): its ~150 CommonJS files read, resolved and wrapped one by
 * one cost about 460 ms of CPU at every `run`, bundled about 320 ms. It has no dynamic require and
 * reads no file of its own; the farm patches only its server instance, and takes s3rver's error
 * class from the same load (adapters/local/embedded-s3.ts: loadS3rver), so the patches work on the
 * bundled copy as on node_modules'. It stays a chunk of its own, loaded only when an embedded S3
 * starts (test/cli/lazy-loading.test.ts). tsx stays outside (only the fallback loads it). Commands
 * load lazily (splitting), as in the sources. dist/cli/inputs.json lists every source file the
 * bundle was built from and when, and package-lock.json stands for the packages: bin/buildfarm.mjs
 * runs the bundle only when none of them changed since.
 */
const CLI_EXTERNAL = ['tsx'];

/**
 * An esbuild plugin that bundles `contents` in place of the packages `filter` matches, when
 * imported by a file whose path `importer` matches (any importer when absent): code only an
 * unused path needs stays out of the CLI bundle, and the stand-in fails loudly if that path is
 * ever taken (issue 12's fixed overhead).
 */
function standIn(name, { filter, importer, contents }) {
  return {
    name,
    setup(build) {
      build.onResolve({ filter }, (args) => (importer === undefined || importer.test(args.importer) ? { path: args.path, namespace: name } : undefined));
      build.onLoad({ filter: /.*/, namespace: name }, () => ({ loader: 'js', contents }));
    },
  };
}

/**
 * aws-local-stepfunctions imports asl-validator, and with it ajv, ajv-formats, jsonata and
 * asl-path-validator (about a quarter of the bundle's code, all evaluated at every start), for the
 * definition check its StateMachine runs unless told not to. The farm always tells it not to
 * (functions/local/state-machine-runner.ts: validationOptions.noValidate; Map and Parallel states
 * build theirs with noValidate too): the definition is a file of this package, validated once by
 * test/statemachine/definition.test.ts. So the CLI bundle gets a stand-in that fails loudly if it is
 * ever called, and a start does not load the validator (issue 12's fixed overhead).
 */
export const NO_ASL_VALIDATOR_AT_RUN_TIME = standIn('no-asl-validator-at-run-time', {
  filter: /^asl-validator$/,
  contents:
    "export default function aslValidator() {\n" +
    "  throw new Error('asl-validator is not in the CLI bundle: the farm runs its state machine with validationOptions.noValidate, and test/statemachine/definition.test.ts validates the definition (scripts/bundle.mjs)');\n" +
    '}\n',
});

/**
 * aws-local-stepfunctions also imports the AWS SDK's Lambda client and credential providers
 * (Cognito identity and STS clients among them: about 700 KiB of code evaluated at every start),
 * to invoke a real function for a Task state that has no local handler. The farm gives every Task
 * state one, or refuses the definition (functions/local/state-machine-runner.ts), so that path is
 * never taken: the CLI bundle gets stand-ins that fail loudly if it ever is, for these two imports
 * of that package only (the farm's own code keeps the real clients). Issue 12's fixed overhead.
 */
export const NO_AWS_LAMBDA_CLIENT_IN_INTERPRETER = standIn('no-aws-lambda-client-in-interpreter', {
  filter: /^@aws-sdk\/(client-lambda|credential-providers)$/,
  importer: /[\\/]node_modules[\\/]aws-local-stepfunctions[\\/]/,
  contents:
    "const why = 'the local farm binds every Task state of its state machine to a local handler; aws-local-stepfunctions never calls AWS Lambda in the CLI bundle (scripts/bundle.mjs)';\n" +
    'export class LambdaClient { constructor() { throw new Error(why); } }\n' +
    'export class InvokeCommand { constructor() { throw new Error(why); } }\n' +
    'export function fromCognitoIdentityPool() { throw new Error(why); }\n',
});

/**
 * s3rver requires busboy at start for one route, POST Object (an HTML form's upload, straight
 * from a browser: https://docs.aws.amazon.com/AmazonS3/latest/API/RESTObjectPOST.html). Its
 * character-set tables are 600 KiB of code evaluated at every start; the farm and its stages
 * upload with PutObject and multipart uploads only. The CLI bundle gets a stand-in that answers
 * such a POST with an error instead (issue 12's fixed overhead); the tests' s3rver keeps busboy.
 */
export const NO_BROWSER_FORM_UPLOADS_IN_S3RVER = standIn('no-browser-form-uploads-in-s3rver', {
  filter: /^busboy$/,
  importer: /[\\/]node_modules[\\/]s3rver[\\/]/,
  contents:
    "module.exports = class Busboy { constructor() { throw new Error('the local farm\\'s S3 takes no browser form uploads (POST Object): use PutObject (scripts/bundle.mjs)'); } };\n",
});

export async function bundleCli(outdir = CLI_DIST) {
  const started = Date.now();
  // Built beside it, then swapped in: a CLI started meanwhile never finds half a bundle.
  const building = `${outdir}.building-${process.pid}`;
  await rm(building, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: cliEntryPoints(),
    outdir: building,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    external: CLI_EXTERNAL,
    plugins: [NO_ASL_VALIDATOR_AT_RUN_TIME, NO_AWS_LAMBDA_CLIENT_IN_INTERPRETER, NO_BROWSER_FORM_UPLOADS_IN_S3RVER],
    // Bundled CommonJS packages call require() for Node's own modules; an ES module has none.
    banner: { js: "import { createRequire as __buildfarmCreateRequire } from 'node:module'; const require = __buildfarmCreateRequire(import.meta.url);" },
    // Error names are API (Step Functions routes on them, the CLI on UserError's subclasses).
    keepNames: true,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  // Files only: a plugin's module (namespace:path, such as the asl-validator stand-in) has none to check.
  const inputs = Object.keys(result.metafile.inputs).filter((file) => !file.startsWith('node_modules/') && !/^[a-z0-9-]+:/.test(file)).sort();
  // Optional: an installed package has no lock file, a checkout's changes with every npm install.
  const packages = ['package-lock.json'];
  await writeFile(join(building, 'inputs.json'), `${JSON.stringify({ builtAt: started, inputs, packages }, null, 1)}\n`);
  const old = `${outdir}.old-${process.pid}`;
  await rename(outdir, old).catch((error) => {
    if (error.code !== 'ENOENT') throw error;
  });
  await rename(building, outdir);
  await rm(old, { recursive: true, force: true });
  return { outdir, inputs, outputs: Object.keys(result.metafile.outputs).filter((o) => !o.endsWith('.map')).map((o) => o.replace(relative(ROOT, building), relative(ROOT, outdir))) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--cli')) {
    const results = await bundleAll();
    for (const r of results) console.log(`${r.logicalId}: ${r.outputs.filter((o) => !o.endsWith('.map')).join(', ')}`);
  }
  const cli = await bundleCli();
  console.log(`cli: ${cli.outputs.length} files from ${cli.inputs.length} sources in ${relative(ROOT, cli.outdir)}`);
}
