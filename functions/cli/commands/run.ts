import path from 'node:path';
import { parseArgs } from 'node:util';
import { LocalBus } from '../../adapters/local/local-bus.js';
import type { BuildRequest } from '../../domain/build-request.js';
import { UserError } from '../../domain/errors.js';
import { openDataDirectory } from '../../local/data-directory.js';
import { describeSandbox, probeStageSandboxAsync, sandboxIsDegraded } from '../../local/sandbox-probe.js';
import { FARM_OPTIONS, FARM_POLICY_HELP, farmPolicy, loadPriceBook, localBuildSettings, plannerConfig } from '../farm-config.js';
import { resolveRunSource, type RunSource } from '../run-source.js';
import { findRunningFarm, handOffBuild, type HandOffOptions, type HandOffOutcome } from '../run-handoff-client.js';
import { farmSettings, type FarmSettings } from '../../local/run-handoff/protocol.js';
import type { BuildReport } from '../../domain/report/types.js';
import { describeBuildFiles } from '../run-files.js';
import { BuildStore } from '../../local/build-store.js';
import { finishedBuildRecord } from '../../local/finished-build-record.js';
import type { CliIo } from '../main.js';
import { RunProgress } from '../run-progress.js';
import { STAGE_CONCURRENCY_HELP, STAGE_CONCURRENCY_OPTION, stageConcurrency } from '../../local/stage-concurrency.js';

const HELP = `Usage: buildfarm run [DIR] [options]

Builds the HEAD commit of the git repository at DIR (default: .) through the real
state machine: each stage on a local Lambda or Fargate executor, artifacts and logs
in an embedded S3 server (data under ./buildfarm-data/), and a cost report at the end.
DIR may be a folder inside a repository: that folder is built as the root. Afterwards
the build's logs, artifacts and report are plain files in DATA/builds/ID/, and
'buildfarm serve' on the same data directory lists the build on its dashboard.

When 'buildfarm serve' is running on the same data directory with the same settings,
the build is handed to it (queued with its other builds, on its dashboard at once;
faster to start); Ctrl-C here stops it there. Otherwise it builds in this process.

Options:
  --json                 print only the report JSON on stdout
  --logs / --no-logs     show the stages' output (default: on a terminal)
  --working-tree         build the files as they are on disk (tracked, and untracked ones git does not
                         ignore) instead of HEAD; without it, uncommitted changes to tracked files are named
  --region R, --prices FILE, --lambda-storage MB, --lambda-tiers LIST   as for 'buildfarm plan'
  --data-dir DIR         where the farm keeps its data (default ./buildfarm-data; --data is an alias)
${FARM_POLICY_HELP}
${STAGE_CONCURRENCY_HELP}

Stage commands run in a bubblewrap sandbox when bwrap is installed (BUILDFARM_SANDBOX=off turns it off).

Exits 0 when the build succeeded (or was not triggered: on:, [skip ci]), 1 when it failed, was
refused (predicted over --max-build-cost) or could not run.`;

/**
 * The farm itself: the state machine interpreter, the AWS SDK, s3rver, the archive code. Loading
 * them is most of a start's CPU time, so they load only past --help and the argument checks, and
 * while git answers (issue 12's fixed overhead).
 */
function startLoading() {
  const loading = loadFarm();
  // A bad DIR is reported as such, whatever the loading does meanwhile.
  loading.catch(() => undefined);
  return loading;
}

async function loadFarm() {
  const [embeddedS3, context, build, files] = await Promise.all([
    import('../../adapters/local/embedded-s3.js').then(async (module) => {
      await module.loadS3rver();
      return module;
    }),
    import('../../local/farm-context.js'),
    import('../../local/run-local-build.js'),
    import('../../local/build-files.js'),
  ]);
  return { startEmbeddedS3: embeddedS3.startEmbeddedS3, createFarmContext: context.createFarmContext, runLocalBuild: build.runLocalBuild, exportBuildFiles: files.exportBuildFiles };
}

/** What `run` builds, as the webhook would have asked for it: a push of the branch, by `local`. */
function runRequest(buildId: string, source: RunSource, now: Date): BuildRequest {
  return {
    deliveryId: buildId,
    event: 'push',
    repository: source.repository,
    cloneUrl: source.top,
    ref: `refs/heads/${source.branch}`,
    branch: source.branch,
    sha: source.sha,
    fromFork: false,
    message: source.message,
    sender: 'local',
    receivedAt: now.toISOString(),
  };
}

/**
 * `run-<UTC time to the millisecond>-<commit>`: two runs of one commit started in the same second
 * (a loop, two terminals) must not share a build id, on a farm they are handed to or in the data
 * directory.
 */
function runBuildId(sha: string, at: Date): string {
  return `run-${at.toISOString().replace(/[-:.TZ]/g, '').slice(0, 17)}-${sha.slice(0, 7)}`;
}

/** The build handed to the running farm, Ctrl-C relayed to it as a stop (run-handoff-client.ts). */
async function handOff(
  socket: string,
  settings: FarmSettings,
  build: { buildId: string; request: BuildRequest; source: RunSource },
  options: Pick<HandOffOptions, 'progress' | 'onAccepted'>,
): Promise<HandOffOutcome> {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const repository = { repository: build.source.repository, path: build.source.top, ...(build.source.subdirectory ? { subdirectory: build.source.subdirectory } : {}) };
    return await handOffBuild({ socket, run: { type: 'run', settings, buildId: build.buildId, request: build.request, repository }, signal: controller.signal, ...options });
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      json: { type: 'boolean' },
      logs: { type: 'boolean' },
      'working-tree': { type: 'boolean' },
      ...FARM_OPTIONS,
      ...STAGE_CONCURRENCY_OPTION,
      'data-dir': { type: 'string' },
      // The old spelling, kept as an alias of --data-dir.
      data: { type: 'string' },
    },
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const dir = path.resolve(io.cwd, positionals[0] ?? '.');
  // resolveRunSource starts its git processes before it awaits anything: the farm loads meanwhile,
  // unless a `buildfarm serve` on the same data directory can take the build (run-handoff-client.ts).
  const resolving = resolveRunSource(dir, { workingTree: values['working-tree'] === true }, (text) => io.stderr.write(text));
  // Awaited below; until then a bad DIR must not count as an unhandled rejection.
  resolving.catch(() => undefined);
  const running = await findRunningFarm(values['data-dir'] ?? values.data, io.cwd);
  let loading = running === undefined ? startLoading() : undefined;
  const source = await resolving;

  const config = plannerConfig(values, io.env);
  const policy = farmPolicy(values, io.env);
  const prices = await loadPriceBook(values, io.env);
  const maxStageConcurrency = stageConcurrency(values, io.env);
  const now = new Date();
  let buildId = runBuildId(source.sha, now);
  let request = runRequest(buildId, source, now);
  const json = values.json === true;
  const tty = !json && Boolean((io.stdout as NodeJS.WriteStream).isTTY);
  const progress = new RunProgress({ write: (t) => (json ? io.stderr : io.stdout).write(t), tty, logs: values.logs ?? tty });
  const building = (how: string) => `building ${source.repository} ${source.branch} ${source.workingTree ? `working tree (${source.sha.slice(0, 7)}, on top of HEAD)` : source.sha.slice(0, 7)} (${source.subdirectory || source.top}) as ${buildId}${how}\n`;
  const finish = (report: BuildReport, directory: string, dataDirectory: string): number => {
    if (json) io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else {
      progress.finish(report);
      io.stdout.write(describeBuildFiles(report, directory, dataDirectory, io.cwd));
    }
    // A build `on:` does not trigger (or a [skip ci] commit) is skipped, which is no failure.
    return report.status === 'succeeded' || report.status === 'skipped' ? 0 : 1;
  };

  if (running !== undefined) {
    const outcome = await handOff(running.socket, farmSettings(config, prices, policy, maxStageConcurrency, io.env), { buildId, request, source }, {
      progress,
      onAccepted: (accepted) => {
        (json || accepted.sandboxDegraded ? io.stderr : io.stdout).write(accepted.sandbox);
        if (!json) io.stdout.write(building(`, on buildfarm serve (pid ${accepted.pid}${accepted.queued > 0 ? `, after ${accepted.queued} build${accepted.queued === 1 ? '' : 's'} it has` : ''}): ${accepted.dashboard}`));
      },
    });
    if (outcome.handed) return finish(outcome.report, outcome.directory, running.dataDirectory);
    if (outcome.why !== undefined) io.stderr.write(`buildfarm run: not handed to buildfarm serve: ${outcome.why}; building in this process\n`);
    if (outcome.farmMayHaveIt === true) {
      // Two builds must never share an id: the farm may still start (and at once stop) the first.
      const again = runBuildId(source.sha, new Date());
      buildId = again === buildId ? `${again}-2` : again;
      request = runRequest(buildId, source, now);
    }
  }
  loading ??= startLoading();
  const { top, subdirectory, repository } = source;

  const opened = await openDataDirectory(values['data-dir'] ?? values.data, io.cwd);
  if (opened.note) io.stderr.write(`buildfarm run: ${opened.note}\n`);
  const dataDirectory = opened.path;
  // The sandbox's trial run goes on while the embedded S3 and the bus start (it never rejects).
  const probing = probeStageSandboxAsync({ dataDirectory, setting: io.env.BUILDFARM_SANDBOX, searchPath: io.env.PATH });
  const { startEmbeddedS3, createFarmContext, runLocalBuild, exportBuildFiles } = await loading;
  const s3 = await startEmbeddedS3(path.join(dataDirectory, 's3'));
  // The same file `buildfarm serve` keeps its bus in, so both show in the dashboard's messages.
  const bus = await LocalBus.open({ file: path.join(dataDirectory, 'bus', 'messages.jsonl') });
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const sandbox = await probing;
    (json || sandboxIsDegraded(sandbox) ? io.stderr : io.stdout).write(describeSandbox(sandbox));
    const farm = createFarmContext({
      dataDirectory,
      s3,
      reports: bus.notifier('BuildReports'),
      repositories: [{ repository, path: top, subdirectory }],
      ...localBuildSettings(config, prices, policy, sandbox, maxStageConcurrency),
      handOverArtifacts: true,
    });
    if (!json) io.stdout.write(building(''));
    const { report } = await runLocalBuild({ buildId, request }, farm, { signal: controller.signal, progress }).catch((error: unknown) => {
      // Ctrl-C: said as a stop, not as a crash (runLocalBuild returns once the stages have ended).
      if (controller.signal.aborted) throw new UserError(`buildfarm run: build ${buildId} stopped (Ctrl-C); its stages were ended`);
      throw error;
    });
    // Plain files of the build, and its record in the build store serve's dashboard lists.
    const builds = await BuildStore.open(path.join(dataDirectory, 'builds'));
    const files = await exportBuildFiles(farm.store, buildId, path.join(dataDirectory, 'builds'), { handOver: farm.artifactHandOver }).finally(() => farm.artifactHandOver?.discard());
    await builds.save(finishedBuildRecord({ id: buildId, request, queuedAt: now.toISOString(), plan: progress.plan, report }));
    return finish(report, files.directory, dataDirectory);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    await bus.idle();
    await s3.close();
  }
}
