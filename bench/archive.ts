/**
 * archive: moving a node_modules-sized tree between stages (issue 12). A generated tree of
 * the express bench's shape (bench/lib/module-tree.ts: 3,772 entries, 25 MB) is packed and
 * uploaded as a stage's artifacts (findArtifacts + uploadArtifacts through the
 * S3ArtifactStore, as the stage agent does), then downloaded and unpacked into a fresh
 * directory (store.get + unpackArchive, as runner/workspace.ts does), against s3rver in a
 * process of its own. Baseline in the same run, taking turns (who goes first alternates):
 * GNU tar on the same tree, `tar cf` to a file and `tar xf` from it (no network at all).
 *
 * No directory is removed until the section ends: on a file system without a journal (this
 * VM's ext4), creating an inode right after many were deleted costs several times more
 * (ext4's allocator skips inodes deleted in the last ~30 s), which would charge one side
 * for the other's clean-up (docs/performance.md).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3ArtifactStore } from '../functions/adapters/aws/s3-artifact-store.js';
import { s3rverClient } from '../functions/adapters/local/s3rver-client.js';
import { artifactArchiveKey } from '../functions/domain/storage-keys.js';
import { unpackArchive } from '../functions/runner/archive/index.js';
import { findArtifacts, uploadArtifacts } from '../functions/runner/artifacts.js';
import { startWorker } from './lib/child.js';
import type { Figure, SectionResult } from './lib/figure.js';
import { makeModuleTree, MODULE_TREE_SHAPE } from './lib/module-tree.js';
import { median, msSince, ratio, round } from './lib/stats.js';

const RUNS = Number(process.env.BENCH_ARCHIVE_RUNS ?? 5);
const GNU_TIME = '/usr/bin/time';

interface Timed {
  ms: number;
  /** User + system CPU: of this whole process for the farm (its worker threads included, s3rver's process not), of tar for tar. */
  cpuMs: number;
  systemMs: number;
}

async function timeInProcess(work: () => Promise<unknown>): Promise<Timed> {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  await work();
  const used = process.cpuUsage(cpu);
  return { ms: msSince(started), cpuMs: (used.user + used.system) / 1000, systemMs: used.system / 1000 };
}

/** Runs `tar args` under GNU time (when installed) for its CPU figures. */
function timeTar(args: string[], scratch: string): Promise<Timed> {
  const measured = existsSync(GNU_TIME);
  const timesFile = join(scratch, 'tar-times.txt');
  const [command, ...rest] = measured ? [GNU_TIME, '-f', '%U %S', '-o', timesFile, 'tar', ...args] : ['tar', ...args];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command!, rest, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', async (code) => {
      const ms = msSince(started);
      if (code !== 0) return reject(new Error(`tar ${args.join(' ')} exited with ${code}: ${stderr.trim()}`));
      if (!measured) return resolve({ ms, cpuMs: Number.NaN, systemMs: Number.NaN });
      const [user, system] = (await readFile(timesFile, 'utf8')).trim().split('\n').pop()!.split(' ').map(Number);
      resolve({ ms, cpuMs: (user! + system!) * 1000, systemMs: system! * 1000 });
    });
  });
}

/** Every path under `root` with its type, permission bits, size and link text: what both unpacks must agree on. */
async function describeTree(root: string, relative = ''): Promise<string[]> {
  const lines: string[] = [];
  for (const name of (await readdir(join(root, relative))).sort()) {
    const path = relative === '' ? name : `${relative}/${name}`;
    const stats = await lstat(join(root, path));
    const kind = stats.isDirectory() ? 'd' : stats.isSymbolicLink() ? 'l' : 'f';
    lines.push(`${kind} ${(stats.mode & 0o777).toString(8)} ${kind === 'f' ? stats.size : ''} ${path}`);
    if (stats.isDirectory()) lines.push(...(await describeTree(root, path)));
  }
  return lines;
}

function summary(runs: Timed[]): Timed {
  return { ms: median(runs.map((r) => r.ms)), cpuMs: median(runs.map((r) => r.cpuMs)), systemMs: median(runs.map((r) => r.systemMs)) };
}

export async function benchArchive(): Promise<SectionResult> {
  const scratch = await mkdtemp(join(tmpdir(), 'bench-archive-'));
  const notes: string[] = [];
  const tree = join(scratch, 'tree');
  const { bytes } = await makeModuleTree(tree);
  const server = await startWorker<{ endpoint: string; bucket: string }>('bench/workers/s3-server.ts', [join(scratch, 's3')]);
  const client = s3rverClient(server.ready.endpoint);
  const store = new S3ArtifactStore(client, server.ready.bucket);
  const farmPack: Timed[] = [];
  const farmUnpack: Timed[] = [];
  const tarPack: Timed[] = [];
  const tarUnpack: Timed[] = [];
  let archiveBytes = 0;
  try {
    for (let run = 0; run < RUNS; run += 1) {
      const farmTurn = async () => {
        const target = { buildId: `bench-${run}`, stage: 'install' };
        let manifest: Awaited<ReturnType<typeof uploadArtifacts>> | undefined;
        farmPack.push(await timeInProcess(async () => {
          const found = await findArtifacts(tree, ['node_modules']);
          manifest = await uploadArtifacts(tree, found.files, target, store);
        }));
        const archive = manifest!.archive!;
        archiveBytes = archive.bytes;
        const destination = join(scratch, `farm-${run}`);
        farmUnpack.push(await timeInProcess(async () => {
          const body = await store.get(artifactArchiveKey(target.buildId, target.stage));
          await unpackArchive(body!, destination, { ...archive, maxBytes: 1024 ** 3, name: archive.key });
        }));
      };
      const tarTurn = async () => {
        const file = join(scratch, `tar-${run}.tar`);
        const destination = join(scratch, `tar-${run}`);
        tarPack.push(await timeTar(['cf', file, '-C', tree, 'node_modules'], scratch));
        await mkdir(destination);
        tarUnpack.push(await timeTar(['xf', file, '-C', destination], scratch));
      };
      if (run % 2 === 0) {
        await farmTurn();
        await tarTurn();
      } else {
        await tarTurn();
        await farmTurn();
      }
    }
    // Both must have made the same tree (modes and links included), or the comparison means nothing.
    const [farmTree, tarTree] = await Promise.all([describeTree(join(scratch, 'farm-0')), describeTree(join(scratch, 'tar-0'))]);
    if (farmTree.join('\n') !== tarTree.join('\n')) notes.push(`the farm's unpack differs from tar's: ${farmTree.length} vs ${tarTree.length} entries`);
  } finally {
    client.destroy();
    await server.stop();
    await rm(scratch, { recursive: true, force: true });
  }
  const farmIn = summary(farmUnpack);
  const tarIn = summary(tarUnpack);
  const farmOut = summary(farmPack);
  const tarOut = summary(tarPack);
  const entries = MODULE_TREE_SHAPE.files + MODULE_TREE_SHAPE.directories + MODULE_TREE_SHAPE.links;
  const shape = `${entries} entries (${MODULE_TREE_SHAPE.files} files, ${MODULE_TREE_SHAPE.directories} directories, ${MODULE_TREE_SHAPE.links} links), ${round(bytes / 1e6)} MB, ${round(archiveBytes / 1e6)} MB tar`;
  const cpu = (t: Timed) => `CPU ${round(t.cpuMs)} ms (system ${round(t.systemMs)})`;
  const figures: Figure[] = [
    {
      section: 'archive',
      name: 'download + unpack, node_modules-shaped tree',
      value: round(farmIn.ms),
      unit: 'ms',
      how: `store.get from s3rver + unpackArchive into a fresh directory, ${shape}; median of ${RUNS} taking turns with tar; ${cpu(farmIn)}`,
      baseline: { name: `GNU tar xf from a file (${cpu(tarIn)})`, value: round(tarIn.ms), unit: 'ms' },
      ratio: ratio(farmIn.ms, tarIn.ms),
    },
    {
      section: 'archive',
      name: 'pack + upload, node_modules-shaped tree',
      value: round(farmOut.ms),
      unit: 'ms',
      how: `findArtifacts + uploadArtifacts to s3rver, same tree; median of ${RUNS}; ${cpu(farmOut)}`,
      baseline: { name: `GNU tar cf to a file (${cpu(tarOut)})`, value: round(tarOut.ms), unit: 'ms' },
      ratio: ratio(farmOut.ms, tarOut.ms),
    },
  ];
  const rounded = (runs: Timed[]) => runs.map((r) => ({ ms: round(r.ms), cpuMs: round(r.cpuMs), systemMs: round(r.systemMs) }));
  const details = { runs: RUNS, contentBytes: bytes, archiveBytes, farmUnpack: rounded(farmUnpack), tarUnpack: rounded(tarUnpack), farmPack: rounded(farmPack), tarPack: rounded(tarPack) };
  return { figures, details, ...(notes.length > 0 ? { notes } : {}) };
}
