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
import { startEmbeddedS3 } from '../../functions/adapters/local/embedded-s3.js';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import type { BuildRequest } from '../../functions/domain/build-request.js';
import { DEFAULT_PRICE_BOOK } from '../../functions/domain/pricing/price-book.js';
import type { BuildReport } from '../../functions/domain/report/types.js';
import { createFarmContext } from '../../functions/local/farm-context.js';
import { runLocalBuild } from '../../functions/local/run-local-build.js';

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
}

export async function buildLocally(repository: string, buildId: string): Promise<LocalBuildResult> {
  const data = await mkdtemp(join(tmpdir(), 'bench-farm-'));
  const s3 = await startEmbeddedS3(join(data, 's3'));
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
    });
    return await runLocalBuild({ buildId, request }, farm);
  } finally {
    await bus.idle();
    await s3.close();
    await rm(data, { recursive: true, force: true });
  }
}
