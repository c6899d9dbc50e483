/**
 * One build of a throw-away git repository through the real state machine, wired as
 * `buildfarm run` wires it (functions/cli/commands/run.ts): the embedded S3, the local bus,
 * createFarmContext and runLocalBuild. The transitions figures need what `buildfarm run`
 * does not print: the interpreter's state transition count.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3ArtifactStore } from '../../functions/adapters/aws/s3-artifact-store.js';
import { s3rverClient, startEmbeddedS3, type EmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { createFarmContext } from '../../functions/local/farm-context.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';
import { startCountingProxy, type ProxiedRequest } from './counting-proxy.js';

const exec = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@localhost', '-c', 'commit.gpgsign=false', ...args], { cwd });
  return stdout.trim();
}

/** A repository holding only `.buildfarm.yml`, committed on main. */
export async function repositoryWith(pipelineYaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bench-repo-'));
  await git(dir, ['init', '-q', '-b', 'main']);
  await writeFile(join(dir, '.buildfarm.yml'), pipelineYaml);
  await git(dir, ['add', '.buildfarm.yml']);
  await git(dir, ['commit', '-q', '-m', 'bench pipeline']);
  return dir;
}

export interface LocalBuildResult {
  report: BuildReport;
  stateTransitions: number;
  /** Every request that reached the S3 server, in arrival order (with `countRequests`). */
  s3Requests?: ProxiedRequest[];
}

export interface LocalBuildOptions {
  /** The template's MaxStageConcurrency (default: the local farm's, this machine's cores). */
  maxStageConcurrency?: number;
  /** Put a counting proxy in front of the embedded S3 (bench/lib/counting-proxy.ts). */
  countRequests?: boolean;
}

/** The embedded S3 seen through a counting proxy: every client of the build gets the proxy's endpoint. */
async function proxiedS3(s3: EmbeddedS3): Promise<{ s3: EmbeddedS3; requests: ProxiedRequest[] }> {
  const proxy = await startCountingProxy(s3.endpoint);
  const client = s3rverClient(proxy.endpoint);
  return {
    requests: proxy.requests,
    s3: {
      endpoint: proxy.endpoint,
      bucket: s3.bucket,
      client,
      store: new S3ArtifactStore(client, s3.bucket),
      async close() {
        client.destroy();
        await proxy.close();
        await s3.close();
      },
    },
  };
}

export async function buildLocally(repository: string, buildId: string, options: LocalBuildOptions = {}): Promise<LocalBuildResult> {
  const data = await mkdtemp(join(tmpdir(), 'bench-farm-'));
  const embedded = await startEmbeddedS3(join(data, 's3'));
  const counted = options.countRequests ? await proxiedS3(embedded) : undefined;
  const s3 = counted?.s3 ?? embedded;
  const bus = await LocalBus.open({ file: join(data, 'bus.jsonl') });
  try {
    await mkdir(data, { recursive: true });
    const sha = await git(repository, ['rev-parse', 'HEAD']);
    const name = 'local/bench';
    const request: BuildRequest = {
      deliveryId: buildId,
      event: 'push',
      repository: name,
      cloneUrl: repository,
      ref: 'refs/heads/main',
      branch: 'main',
      sha,
      fromFork: false,
      message: 'bench pipeline',
      sender: 'bench',
      receivedAt: new Date().toISOString(),
    };
    const farm = createFarmContext({
      dataDirectory: data,
      s3,
      reports: bus.notifier('BuildReports'),
      repositories: [{ repository: name, path: repository }],
      region: 'us-east-1',
      prices: DEFAULT_PRICE_BOOK,
      lambdaEphemeralStorageMB: 512,
      ...(options.maxStageConcurrency ? { maxStageConcurrency: options.maxStageConcurrency } : {}),
    });
    const outcome = await runLocalBuild({ buildId, request }, farm);
    return { ...outcome, s3Requests: counted?.requests };
  } finally {
    await bus.idle();
    await s3.close();
    await rm(data, { recursive: true, force: true });
  }
}
