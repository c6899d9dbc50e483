/**
 * `buildfarm serve`: the local farm. Webhooks in, builds through the real
 * state machine, a dashboard out; `--demo` (what `npm start` passes) builds
 * the bundled example on first start.
 */
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../../domain/errors.js';
import { DEMO_REPOSITORY, demoPushPayload, prepareDemoRepository, sendSignedDelivery, type DemoRepository } from '../../local/demo.js';
import { createChildProcessBuildRunner, type ChildProcessBuildRunner } from '../../local/child-build/child-process-runner.js';
import { createProgressPrinter } from '../../local/progress-printer.js';
import { describeSandbox, probeStageSandbox, sandboxIsDegraded } from '../../local/sandbox-probe.js';
import { mergeMappings, parseRepositoryFlag, type RepositoryMapping } from '../../local/repositories.js';
import { retentionFrom } from '../../local/retention.js';
import { openDataDirectory } from '../../local/data-directory.js';
import { startLocalFarm, type RunningLocalFarm } from '../../local/start-farm.js';
import { findDescendants, stopDescendants } from '../../local/stop-descendants.js';
import { resolveWebhookSecret } from '../../local/webhook-secret.js';
import { formatLimitUsd } from '../../domain/plan/admission.js';
import { buildFilesDirectory, exportBuildFiles } from '../../local/build-files.js';
import { farmSettings } from '../../local/run-handoff/protocol.js';
import { startRunHandOff } from '../../local/run-handoff/handoff-server.js';
import type { FarmPolicy } from '../../domain/plan/farm-policy.js';
import { FARM_OPTIONS, FARM_POLICY_HELP, farmPolicy, loadPriceBook, localBuildSettings, plannerConfig } from '../farm-config.js';
import { git } from '../git.js';
import type { CliIo } from '../main.js';
import { STAGE_CONCURRENCY_HELP, STAGE_CONCURRENCY_OPTION, stageConcurrency } from '../../local/stage-concurrency.js';

export const DEFAULT_PORT = 8080;

const HELP = `Usage: buildfarm serve [options]

The local farm: accepts signed GitHub webhooks, builds through the real state
machine on this machine, and serves a dashboard of builds, stages, logs,
artifacts and costs. Listens on 127.0.0.1 only.

Options:
  --port N                  port for the dashboard and POST /webhook (default ${DEFAULT_PORT}; 0 picks a free one)
  --repo OWNER/NAME=PATH    build webhooks for OWNER/NAME from the git repository at PATH (repeatable)
  --demo                    on first start, build the bundled example (examples/hello-farm)
  --data-dir DIR            where builds, logs, artifacts and S3 objects are kept (default ./buildfarm-data;
                            an old ./.buildfarm is moved there)
  --keep-days N, --keep-builds N   retention, applied at start (as 'buildfarm gc'; defaults 30 and 50)
  --region R, --prices FILE, --lambda-storage MB, --lambda-tiers LIST   as for 'buildfarm plan'
${FARM_POLICY_HELP}
${STAGE_CONCURRENCY_HELP}

Environment:
  GITHUB_WEBHOOK_SECRET     the webhook secret; without it one is generated once and kept in DIR/webhook-secret
  BUILDFARM_SANDBOX=off     run stage commands without the bubblewrap sandbox (said loudly; never for untrusted code)`;

export async function serveCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      help: { type: 'boolean', short: 'h' },
      port: { type: 'string' },
      repo: { type: 'string', multiple: true },
      demo: { type: 'boolean' },
      'data-dir': { type: 'string' },
      // `buildfarm run`'s old spelling, accepted everywhere as an alias of --data-dir.
      data: { type: 'string' },
      'keep-days': { type: 'string' },
      'keep-builds': { type: 'string' },
      ...FARM_OPTIONS,
      ...STAGE_CONCURRENCY_OPTION,
    },
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const port = parsePort(values.port);
  const config = plannerConfig(values, io.env);
  const retention = retentionFrom(values, io.env);
  const policy = farmPolicy(values, io.env);
  const prices = await loadPriceBook(values, io.env);
  const maxStageConcurrency = stageConcurrency(values, io.env);
  // Only once every setting is known good: a bad flag leaves nothing behind.
  const opened = await openDataDirectory(values['data-dir'] ?? values.data, io.cwd);
  if (opened.note) io.stderr.write(`buildfarm serve: ${opened.note}\n`);
  const dataDirectory = opened.path;

  // Every build starts from `git archive`: say so now rather than in the first build's log.
  await git(io.cwd, ['--version']);
  const repositories = mergeMappings((values.repo ?? []).map((text) => parseRepositoryFlag(text, io.cwd)));
  for (const mapping of repositories) await checkRepository(mapping);
  const demo = values.demo ? await prepareDemoRepository(git, join(dataDirectory, 'demo', 'hello-farm')) : undefined;
  if (demo !== undefined) repositories.push({ repository: demo.repository, path: demo.path });

  const secret = await resolveWebhookSecret(io.env, dataDirectory);
  const sandbox = probeStageSandbox({ dataDirectory, setting: io.env.BUILDFARM_SANDBOX, searchPath: io.env.PATH });
  const write = (text: string) => io.stdout.write(text);
  const color = (io.stdout as NodeJS.WriteStream).isTTY === true;
  let dashboardUrl: string | undefined;
  const printer = createProgressPrinter({ write, color, get dashboardUrl() { return dashboardUrl; } });

  let runner: ChildProcessBuildRunner | undefined;
  const farm = await startLocalFarm({
    dataDirectory,
    port,
    repositories,
    secret: secret.secret,
    secretFromEnvironment: secret.source === 'environment',
    region: config.region,
    // Each build in a process of its own: the webhook and the dashboard answer while builds run. One
    // is forked and loaded in advance, so a build (a webhook's, or a handed-over run) starts at once.
    createRunner: (context) =>
      (runner = createChildProcessBuildRunner(context, localBuildSettings(config, prices, policy, sandbox, maxStageConcurrency), { keepOneWarm: true })),
    onEvent: printer,
    retention,
    ...(policy.budgets ? { budgets: policy.budgets } : {}),
    onError: (error) => io.stderr.write(`buildfarm serve: ${error instanceof Error ? error.message : String(error)}\n`),
  });
  dashboardUrl = farm.url;
  // `buildfarm run` on this data directory hands its builds to this farm (run-handoff/).
  const handOff = await startRunHandOff({
    dataDirectory,
    farm: farm.farm,
    settings: farmSettings(config, prices, policy, maxStageConcurrency, io.env),
    sandbox: { text: describeSandbox(sandbox), degraded: sandboxIsDegraded(sandbox) },
    dashboard: (id) => `${farm.url}/#/builds/${encodeURIComponent(id)}`,
    exportFiles: async (id, part) => (await exportBuildFiles(farm.s3.store, id, join(dataDirectory, 'builds'), { part })).directory,
    removeFiles: (id) => rm(buildFilesDirectory(join(dataDirectory, 'builds'), id), { recursive: true, force: true }),
    reportsPublished: (listener) =>
      farm.bus.subscribe('BuildReports', (message) => {
        const buildId = (JSON.parse(message.message) as { buildId?: unknown }).buildId;
        if (typeof buildId === 'string') listener(buildId);
      }),
    onError: (error) => io.stderr.write(`buildfarm serve: run hand-off: ${error instanceof Error ? error.message : String(error)}\n`),
  });

  const handOffLine = 'path' in handOff ? `'buildfarm run' with this data directory and these settings builds here` : `off: ${handOff.unavailable}`;
  write(banner(farm, secret, dataDirectory, io.cwd, farm.store.interruptedAtOpen.length, describePolicy(policy), handOffLine));
  // A warning goes to stderr (once), where it is not lost among the build lines.
  (sandboxIsDegraded(sandbox) ? io.stderr : io.stdout).write(describeSandbox(sandbox));

  const stopSignal = waitForStopSignal(io);
  const ownHelpers = await findDescendants(process.pid);
  if (demo !== undefined) await startDemo(farm, demo, secret.secret, io, write);
  const signal = await stopSignal;

  const running = farm.farm.list().filter((build) => build.status === 'running' || build.status === 'queued').length;
  write(`\n${signal}: stopping${running > 0 ? `, cancelling ${running} build${running === 1 ? '' : 's'}` : ''}…\n`);
  if ('path' in handOff) handOff.stopAccepting();
  await farm.farm.shutdown(`stopped by ${signal}`);
  if ('path' in handOff) await handOff.close();
  // The build process kept loaded for the next build is the farm's own, not a stage's: ended first.
  await runner?.close();
  // Stage processes live in sessions of their own: end them before leaving (this process started nothing else).
  const stopped = await stopDescendants({ except: ownHelpers });
  if (stopped > 0) write(`stopped ${stopped} stage process${stopped === 1 ? '' : 'es'}\n`);
  await farm.close(`stopped by ${signal}`);
  write('stopped.\n');
  return 0;
}

function parsePort(text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UserError(`--port: "${text}" is not a port number (0 to 65535)`);
  return port;
}

async function checkRepository(mapping: RepositoryMapping): Promise<void> {
  // Checked first: git run in a missing directory fails like a missing git.
  const info = await stat(mapping.path).catch(() => undefined);
  if (!info?.isDirectory()) throw new UserError(`--repo ${mapping.repository}=${mapping.path}: no such directory`);
  try {
    await git(mapping.path, ['rev-parse', '--git-dir']);
  } catch (error) {
    if ((error as Error).name === 'GitMissing') throw error;
    throw new UserError(`--repo ${mapping.repository}=${mapping.path}: not a git repository`);
  }
}

/** Builds the example through the farm's own webhook, unless an earlier start already did. */
async function startDemo(farm: RunningLocalFarm, demo: DemoRepository, secret: string, io: CliIo, write: (text: string) => void): Promise<void> {
  // A demo build that ran to its report counts; one cut short (Ctrl-C, a crash) is tried again.
  const built = farm.farm.list().find((build) => build.repository === DEMO_REPOSITORY && (build.status === 'succeeded' || build.status === 'failed'));
  if (built !== undefined) {
    write(`demo: already built on an earlier start (${built.status}): ${farm.url}/#/builds/${encodeURIComponent(built.id)}\n\n`);
    return;
  }
  write(`demo: building ${DEMO_REPOSITORY} (examples/hello-farm) through a signed push to ${farm.webhookUrl}\n`);
  const delivery = await sendSignedDelivery(farm.webhookUrl, secret, 'push', demoPushPayload(demo, new Date()));
  if (delivery.status !== 202) io.stderr.write(`demo: the webhook answered ${delivery.status}: ${delivery.body}\n`);
}

/** One line for the banner; `forks: build` is said loudly, since it hands secrets to strangers. */
function describePolicy(policy: FarmPolicy): string {
  const limit = (usd: number | undefined) => (usd === undefined ? 'no limit' : `at most ${formatLimitUsd(usd)}`);
  const forks = policy.forks === 'build' ? 'forks: build (WARNING: fork pull requests get the secrets their stages declare)' : `forks: ${policy.forks}`;
  return `${forks} · fork builds ${limit(policy.maxForkBuildCostUsd)} · builds ${limit(policy.maxBuildCostUsd)}`;
}

function banner(farm: RunningLocalFarm, secret: Awaited<ReturnType<typeof resolveWebhookSecret>>, dataDirectory: string, cwd: string, interrupted: number, policy: string, handOff: string): string {
  const relative = (path: string) => (path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path);
  const secretLine =
    secret.source === 'environment'
      ? 'from GITHUB_WEBHOOK_SECRET'
      : `${secret.secret}  (${secret.source === 'generated' ? 'generated, ' : ''}kept in ${relative(secret.file!)}; set GITHUB_WEBHOOK_SECRET to choose one)`;
  const lines = [
    '',
    'buildfarm local farm',
    `  dashboard  ${farm.url}/`,
    `  webhook    ${farm.webhookUrl}  (push and pull_request, content type application/json)`,
    `  secret     ${secretLine}`,
    `  S3         ${farm.s3.endpoint}  bucket ${farm.s3.bucket}`,
    `  data       ${relative(dataDirectory)}/`,
    `  policy     ${policy}`,
    `  run        ${handOff}`,
    ...(farm.repositories.length > 0
      ? farm.repositories.map((r, i) => `  ${i === 0 ? 'repos     ' : '          '} ${r.repository} <- ${relative(r.path)}`)
      : ['  repos      none mapped: add --repo OWNER/NAME=PATH to build a repository\'s webhooks']),
    ...(interrupted > 0 ? [`  note       ${interrupted} build${interrupted === 1 ? ' was' : 's were'} cut off when the farm last stopped: marked interrupted, re-run once`] : []),
    ...(farm.collected.builds.length > 0 ? [`  retention  removed ${farm.collected.builds.length} old finished build${farm.collected.builds.length === 1 ? '' : 's'} (--keep-days, --keep-builds)`] : []),
    ...(farm.recovery.deferred.length > 0 ? [`  WARNING    ${farm.recovery.deferred.length} accepted deliver${farm.recovery.deferred.length === 1 ? 'y' : 'ies'} could not start (${farm.recovery.deferred[0]!.reason}): kept on the bus, tried again at the next start`] : []),
    ...(farm.recovery.replayed.length > 0 ? [`  note       ${farm.recovery.replayed.length} accepted deliver${farm.recovery.replayed.length === 1 ? 'y' : 'ies'} had no build yet: started now`] : []),
    'Press Ctrl-C to stop.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

/** Resolves with the signal's name on the first SIGINT or SIGTERM; a second one exits at once. */
function waitForStopSignal(io: CliIo): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.once('SIGINT', () => {
        io.stderr.write('stopping at once\n');
        process.exit(130);
      });
      resolve(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
