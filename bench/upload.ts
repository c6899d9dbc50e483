/**
 * upload: artifact upload throughput and the uploader's peak memory for 1 GiB in one file
 * and for 10,000 small files, to the embedded S3 (s3rver, in a process of its own). The
 * farm's uploader (findArtifacts + uploadArtifacts through the S3ArtifactStore, as the stage
 * agent runs them) runs in a fresh child process per run, so its peak RSS is its own.
 * Baseline: `aws s3 cp --recursive` against the same server with --endpoint-url, when the
 * AWS CLI is installed and runs; its peak RSS and CPU time from GNU time when that is installed.
 * The farm and the CLI take turns on the same server, several times (the one that goes first
 * alternates), and each figure is the median: load from other processes falls on both alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWorker, startWorker } from './lib/child.js';
import { atLeast, below, type Figure, type SectionResult } from './lib/figure.js';
import { median, msSince, ratio, round } from './lib/stats.js';
import { UPLOAD_PART_SIZE, UPLOAD_QUEUE_SIZE } from '../functions/adapters/aws/s3-artifact-store.js';

export const UPLOAD_CASES = [
  { name: '1 GiB in one file', files: 1, bytesPerFile: 1024 ** 3, runs: Number(process.env.BENCH_UPLOAD_RUNS ?? 3) },
  { name: '10,000 small files', files: 10_000, bytesPerFile: 4 * 1024, runs: 1 },
] as const;
/** Per uploader run; a run that takes longer is reported as timed out rather than holding up the bench. */
const UPLOAD_TIMEOUT_MS = 120_000;
const GNU_TIME = '/usr/bin/time';

interface UploadRun {
  files: number;
  bytes: number;
  findMs: number;
  uploadMs: number;
  rssBeforeMiB: number;
  maxRssMiB: number;
  /** User + system CPU of the uploading process (the hashing worker's included). */
  cpuMs: number;
}

interface CliRun {
  ms: number;
  maxRssMiB?: number;
  cpuMs?: number;
}

/** The workspace for a case: one sparse file (no disk written, reads as zeros), or many small files of random bytes. */
async function makeWorkspace(root: string, files: number, bytesPerFile: number): Promise<void> {
  await mkdir(root, { recursive: true });
  if (files === 1) {
    const handle = await open(join(root, 'big.bin'), 'w');
    await handle.truncate(bytesPerFile);
    await handle.close();
    return;
  }
  const content = randomBytes(bytesPerFile);
  const perDirectory = 100;
  for (let d = 0; d * perDirectory < files; d += 1) {
    const directory = join(root, `dir-${String(d).padStart(3, '0')}`);
    await mkdir(directory);
    for (let f = 0; f < perDirectory && d * perDirectory + f < files; f += 1) await writeFile(join(directory, `file-${f}.txt`), content);
  }
}

/** Objects s3rver stored under a key prefix (it keeps each as `<key>._S3rver_object` on disk): no S3 listing needed. */
async function storedObjects(directory: string): Promise<number> {
  if (!existsSync(directory)) return 0;
  let count = 0;
  for (const entry of await readdir(directory, { recursive: true })) if (entry.endsWith('._S3rver_object')) count += 1;
  return count;
}

/** `aws --version` runs (a pyenv shim without a real CLI behind it fails here). */
function awsCliVersion(): string | undefined {
  const result = spawnSync('aws', ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) return undefined;
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0];
}

function awsCp(workspace: string, endpoint: string, bucket: string, prefix: string, scratch: string): Promise<CliRun> {
  const measureRss = existsSync(GNU_TIME);
  const cliConfig = join(scratch, 'aws-config');
  const rssFile = join(scratch, 'aws-rss.txt');
  const cli = ['aws', 's3', 'cp', workspace, `s3://${bucket}/${prefix}/`, '--recursive', '--endpoint-url', endpoint, '--only-show-errors'];
  const [command, ...args] = measureRss ? [GNU_TIME, '-f', '%M %U %S', '-o', rssFile, ...cli] : cli;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    AWS_DEFAULT_REGION: 'us-east-1',
    // Nothing from the user's own AWS configuration; payloads unsigned, as the CLI sends them to S3 over
    // HTTPS and as the farm sends parts (botocore signs payloads over plain HTTP unless told not to).
    AWS_CONFIG_FILE: cliConfig,
    AWS_SHARED_CREDENTIALS_FILE: join(scratch, 'no-credentials'),
    AWS_PROFILE: undefined,
    AWS_SESSION_TOKEN: undefined,
    // s3rver predates the default CRC32 trailers, as for the farm's own client.
    AWS_REQUEST_CHECKSUM_CALCULATION: 'when_required',
    AWS_RESPONSE_CHECKSUM_VALIDATION: 'when_required',
  };
  return new Promise((resolve, reject) => {
    writeFileSync(cliConfig, '[default]\ns3 =\n  payload_signing_enabled = false\n');
    const started = process.hrtime.bigint();
    // A process group of its own: on a timeout, GNU time and the CLI under it stop together.
    const child = spawn(command, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-2000)));
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, UPLOAD_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', async (code) => {
      clearTimeout(timer);
      const ms = msSince(started);
      if (code !== 0) return reject(new Error(`aws s3 cp exited with ${code}: ${stderr.trim()}`));
      let maxRssMiB: number | undefined;
      let cpuMs: number | undefined;
      if (measureRss) {
        const [kib, user, system] = ((await readFile(rssFile, 'utf8')).trim().split('\n').pop() ?? '').split(' ').map(Number);
        if (Number.isFinite(kib)) maxRssMiB = kib / 1024;
        if (Number.isFinite(user) && Number.isFinite(system)) cpuMs = (user + system) * 1000;
      }
      resolve({ ms, maxRssMiB, cpuMs });
    });
  });
}

function mibPerSecond(bytes: number, ms: number): number {
  return round(bytes / 1048576 / (ms / 1000));
}

export async function benchUpload(): Promise<SectionResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-upload-'));
  const awsVersion = awsCliVersion();
  const notes: string[] = [];
  if (awsVersion === undefined) notes.push('aws s3 cp: not installed (`aws --version` does not run), so no baseline');
  const figures: Figure[] = [];
  const details: Record<string, unknown> = { awsCli: awsVersion ?? 'not installed', timeoutMs: UPLOAD_TIMEOUT_MS };
  try {
    for (const [index, testCase] of UPLOAD_CASES.entries()) {
      const workspace = join(scratch, `workspace-${index}`);
      const data = join(scratch, `s3-${index}`);
      await makeWorkspace(workspace, testCase.files, testCase.bytesPerFile);
      const server = await startWorker<{ endpoint: string; bucket: string }>('bench/workers/s3-server.ts', [data]);
      const farmRuns: UploadRun[] = [];
      const cliRuns: CliRun[] = [];
      let farmObjects = 0;
      let cliObjects = 0;
      try {
        for (let run = 0; run < testCase.runs; run += 1) {
          const buildId = `bench-${index}-${run}`;
          const farmTurn = async () => {
            try {
              farmRuns.push(await runWorker<UploadRun>('bench/workers/upload.ts', [server.ready.endpoint, server.ready.bucket, workspace, buildId], { timeoutMs: UPLOAD_TIMEOUT_MS }));
            } catch (error) {
              notes.push(`${testCase.name}, farm uploader, run ${run + 1}: ${(error as Error).message.slice(0, 300)}`);
            }
            const prefix = join(data, server.ready.bucket, 'builds', buildId);
            farmObjects = await storedObjects(prefix);
            await rm(prefix, { recursive: true, force: true });
          };
          const cliTurn = async () => {
            if (awsVersion === undefined) return;
            const prefix = `aws-cli-${index}-${run}`;
            try {
              cliRuns.push(await awsCp(workspace, server.ready.endpoint, server.ready.bucket, prefix, scratch));
            } catch (error) {
              notes.push(`${testCase.name}, aws s3 cp, run ${run + 1}: ${(error as Error).message.slice(0, 300)}`);
            }
            cliObjects = await storedObjects(join(data, server.ready.bucket, prefix));
            await rm(join(data, server.ready.bucket, prefix), { recursive: true, force: true });
          };
          // Turns alternate who goes first, so neither always meets the other's leftovers (page cache, s3rver's disk writes).
          if (run % 2 === 0) {
            await farmTurn();
            await cliTurn();
          } else {
            await cliTurn();
            await farmTurn();
          }
        }
      } finally {
        await server.stop();
        await rm(data, { recursive: true, force: true });
        await rm(workspace, { recursive: true, force: true });
      }
      const farm: UploadRun | undefined = farmRuns.length === 0 ? undefined : {
        files: farmRuns[0]!.files,
        bytes: farmRuns[0]!.bytes,
        findMs: median(farmRuns.map((r) => r.findMs)),
        uploadMs: median(farmRuns.map((r) => r.uploadMs)),
        rssBeforeMiB: median(farmRuns.map((r) => r.rssBeforeMiB)),
        maxRssMiB: Math.max(...farmRuns.map((r) => r.maxRssMiB)),
        cpuMs: median(farmRuns.map((r) => r.cpuMs)),
      };
      const cliCpu = cliRuns.flatMap((r) => (r.cpuMs === undefined ? [] : [r.cpuMs]));
      const cliRss = cliRuns.flatMap((r) => (r.maxRssMiB === undefined ? [] : [r.maxRssMiB]));
      const cli: CliRun | undefined = cliRuns.length === 0 ? undefined : {
        ms: median(cliRuns.map((r) => r.ms)),
        ...(cliRss.length > 0 ? { maxRssMiB: Math.max(...cliRss) } : {}),
        ...(cliCpu.length > 0 ? { cpuMs: median(cliCpu) } : {}),
      };
      const totalBytes = testCase.files * testCase.bytesPerFile;
      details[testCase.name] = {
        runs: testCase.runs,
        farm: farmRuns.map((r) => ({ uploadMs: round(r.uploadMs), findMs: round(r.findMs), cpuMs: round(r.cpuMs), rssBeforeMiB: round(r.rssBeforeMiB), maxRssMiB: round(r.maxRssMiB) })),
        farmObjectsStored: farmObjects,
        awsCli: cliRuns.map((r) => ({ ms: round(r.ms), ...(r.cpuMs !== undefined ? { cpuMs: round(r.cpuMs) } : {}), ...(r.maxRssMiB !== undefined ? { maxRssMiB: round(r.maxRssMiB) } : {}) })),
        awsCliObjectsStored: cliObjects,
      };
      if (farm === undefined) continue;
      // The farm stores a stage's artifacts as one archive (functions/runner/archive): one object whatever the file count.
      if (farmObjects !== 1) notes.push(`${testCase.name}: the server holds ${farmObjects} objects after the farm's upload, not the one archive`);
      const throughput = mibPerSecond(totalBytes, farm.uploadMs);
      const cliThroughput = cli === undefined ? undefined : mibPerSecond(totalBytes, cli.ms);
      const perSecond = testCase.files > 1 ? `, ${round(testCase.files / (farm.uploadMs / 1000))} files/s` : '';
      const cliPerSecond = cli !== undefined && testCase.files > 1 ? `, ${round(testCase.files / (cli.ms / 1000))} files/s` : '';
      figures.push({
        section: 'upload',
        name: `throughput, ${testCase.name}`,
        value: throughput,
        unit: 'MiB/s',
        how: `uploadArtifacts (one tar streamed through S3ArtifactStore: ${UPLOAD_QUEUE_SIZE} parts of ${UPLOAD_PART_SIZE / 1048576} MiB in flight from a reused buffer pool; sha256 on a worker thread from 16 MiB) to s3rver on 127.0.0.1, ${round(farm.uploadMs / 1000)} s${perSecond}, median of ${farmRuns.length} taking turns with the CLI; CPU ${round(farm.cpuMs / 1000)} s${cli?.cpuMs !== undefined ? ` (the CLI: ${round(cli.cpuMs / 1000)} s)` : ''}; finding the files took ${round(farm.findMs)} ms more`,
        ...(cli !== undefined && cliThroughput !== undefined
          ? {
              baseline: { name: `aws s3 cp --recursive (${round(cli.ms / 1000)} s${cliPerSecond}, median of ${cliRuns.length})`, value: cliThroughput, unit: 'MiB/s' },
              ratio: ratio(throughput, cliThroughput),
              goal: atLeast(throughput, cliThroughput, '>= 1.0x aws s3 cp (issue 12)'),
            }
          : {}),
      });
      figures.push({
        section: 'upload',
        name: `peak RSS of the uploader, ${testCase.name}`,
        value: round(farm.maxRssMiB),
        unit: 'MiB',
        how: `process.resourceUsage().maxRSS of the uploading process, highest of ${farmRuns.length} (${round(farm.rssBeforeMiB)} MiB after loading, before the upload; parts held at most ${UPLOAD_QUEUE_SIZE + 1} x ${UPLOAD_PART_SIZE / 1048576} MiB)`,
        ...(cli?.maxRssMiB !== undefined
          ? { baseline: { name: 'aws s3 cp peak RSS (GNU time)', value: round(cli.maxRssMiB), unit: 'MiB' }, ratio: ratio(farm.maxRssMiB, cli.maxRssMiB) }
          : {}),
        goal: below(farm.maxRssMiB, 256, '< 256 MiB (a quarter of the smallest runner, 1024 MB)'),
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { figures, details, ...(notes.length > 0 ? { notes } : {}) };
}
