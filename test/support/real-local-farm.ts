/**
 * A local farm wired as `buildfarm serve` wires it (startLocalFarm: the bus,
 * the build store, the embedded s3rver, the HTTP server) building a throwaway
 * git repository through the real state machine, with builds either in child
 * processes (what serve runs) or in this process (what `buildfarm run` does).
 * Stage commands run in the host shell (no sandbox), so tests can see their processes.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import type { BuildExecutionInput } from '../../functions/local/build-record.js';
import { createChildProcessBuildRunner } from '../../functions/local/child-build/child-process-runner.js';
import type { FarmEvent } from '../../functions/local/farm.js';
import { createLocalBuildRunner, type LocalBuildSettings } from '../../functions/local/local-build-runner.js';
import { startLocalFarm, type RunningLocalFarm } from '../../functions/local/start-farm.js';
import { numberedPush } from './numbered-push.js';

export const REAL_FARM_REPOSITORY = 'octo-org/real-farm';
export const REAL_FARM_SECRET = 'real-farm-secret';

export interface RealLocalFarm {
  farm: RunningLocalFarm;
  directory: string;
  repo: string;
  sha: string;
  /** The execution input of a push of the repository's commit (as start-build makes it). */
  input(buildId: string): BuildExecutionInput;
  close(): Promise<void>;
}

export interface RealLocalFarmOptions {
  /** The repository's .buildfarm.yml. */
  pipeline: string;
  builds: 'child-process' | 'in-process';
  /** Told each build process's pid (child-process builds only). */
  onStarted?(buildId: string, pid: number): void;
  onEvent?(event: FarmEvent): void;
  maxConcurrentBuilds?: number;
  /** Also map this repository name to the same git repository (a webhook fixture's). */
  alsoMap?: string;
  /** An existing data directory to reuse (kept on close). */
  directory?: string;
}

const SETTINGS: LocalBuildSettings = { region: 'us-east-1', prices: DEFAULT_PRICE_BOOK, lambdaEphemeralStorageMB: 512 };

export async function startRealLocalFarm(options: RealLocalFarmOptions): Promise<RealLocalFarm> {
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'real-farm-')));
  const repo = join(directory, 'repo');
  await mkdir(repo, { recursive: true });
  await writeFile(join(repo, '.buildfarm.yml'), options.pipeline);
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: repo, encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  git('add', '--all');
  git('commit', '--quiet', '--allow-empty', '-m', 'A pipeline');
  const sha = git('rev-parse', 'HEAD');
  const repositories = [{ repository: REAL_FARM_REPOSITORY, path: repo }, ...(options.alsoMap ? [{ repository: options.alsoMap, path: repo }] : [])];
  const farm = await startLocalFarm({
    dataDirectory: join(directory, 'data'),
    port: 0,
    repositories,
    secret: REAL_FARM_SECRET,
    secretFromEnvironment: true,
    region: 'us-east-1',
    createRunner: (context) =>
      options.builds === 'child-process' ? createChildProcessBuildRunner(context, SETTINGS, { onStarted: options.onStarted }) : createLocalBuildRunner(context, SETTINGS),
    onEvent: options.onEvent,
    maxConcurrentBuilds: options.maxConcurrentBuilds,
  });
  let sequence = 0;
  return {
    farm,
    directory,
    repo,
    sha,
    input(buildId) {
      sequence += 1;
      return {
        buildId,
        request: numberedPush(REAL_FARM_REPOSITORY, sha, sequence),
      };
    },
    async close() {
      await farm.close();
      if (options.directory === undefined) await rm(directory, { recursive: true, force: true });
    },
  };
}
