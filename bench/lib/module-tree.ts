/**
 * A generated tree shaped like the express bench's node_modules (bench/fixtures/express-like
 * after `npm ci`: 207 top-level packages, 571 directories up to 6 deep, 3,190 files, 11
 * symbolic links in `.bin`, 67 executables, 25.4 MB of content). File sizes follow that
 * tree's own quantiles (p10 201 B, p50 1.7 KiB, p90 15 KiB, p99 114 KiB, a few of 1 MiB), so
 * an unpack spends its time where the real one does: creating many small files.
 * Deterministic (a seeded generator), so every run and both sides of a comparison see the same tree.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { seededRandom } from './seeded-random.js';

export const MODULE_TREE_SHAPE = { packages: 207, directories: 571, files: 3190, links: 11, executables: 67 } as const;

/**
 * [quantile, bytes] of the measured node_modules' file sizes, sizes in between log-interpolated;
 * the 0.977 and 0.999 points are fitted so that 73 files are over 64 KiB with 10.6 MB between
 * them (the real tree: 75 files, 10.5 MB).
 */
const SIZE_QUANTILES: [number, number][] = [
  [0, 20], [0.1, 201], [0.25, 724], [0.5, 1662], [0.75, 5330], [0.9, 15272], [0.977, 65536], [0.99, 116560], [0.999, 250000], [1, 1225710],
];

function sizeAt(q: number): number {
  for (let i = 1; i < SIZE_QUANTILES.length; i += 1) {
    const [q1, s1] = SIZE_QUANTILES[i]!;
    const [q0, s0] = SIZE_QUANTILES[i - 1]!;
    if (q <= q1) return Math.round(Math.exp(Math.log(s0) + ((q - q0) / (q1 - q0)) * (Math.log(s1) - Math.log(s0))));
  }
  return SIZE_QUANTILES[SIZE_QUANTILES.length - 1]![1];
}

/** Writes the tree under `root/node_modules`; returns its content bytes. */
export async function makeModuleTree(root: string, seed = 12): Promise<{ bytes: number }> {
  const random = seededRandom(seed);
  const shape = MODULE_TREE_SHAPE;
  const top = join(root, 'node_modules');
  // Packages, then nested directories hung under random earlier ones (depth grows as in a real tree).
  const directories: string[] = [];
  for (let p = 0; p < shape.packages; p += 1) directories.push(join(top, `pkg-${p}`));
  while (directories.length < shape.directories - 1) {
    const parent = directories[Math.floor(random() * directories.length)]!;
    if (parent.split('/').length - top.split('/').length >= 6) continue;
    directories.push(join(parent, ['lib', 'dist', 'src', 'esm', 'cjs', 'types'][Math.floor(random() * 6)]! + `-${directories.length}`));
  }
  directories.push(join(top, '.bin'));
  for (const directory of directories) await mkdir(directory, { recursive: true });
  // Incompressible content, as in a real tree after tar (no run-length shortcut anywhere).
  const pool = randomBytes(2 * 1024 * 1024);
  let bytes = 0;
  const executables: string[] = [];
  for (let f = 0; f < shape.files; f += 1) {
    // Every package gets its package.json and every directory a file (no empty ones: artifacts carry files and links); the rest land anywhere but .bin.
    const directory = f < directories.length - 1 ? directories[f]! : directories[Math.floor(random() * (directories.length - 1))]!;
    const name = f < shape.packages ? 'package.json' : `file-${f}.js`;
    const size = sizeAt(random());
    const offset = Math.floor(random() * (pool.length - size));
    const path = join(directory, name);
    await writeFile(path, pool.subarray(offset, offset + size));
    bytes += size;
    if (executables.length < shape.executables && f >= shape.packages && random() < 0.05) {
      await chmod(path, 0o755);
      executables.push(path);
    }
  }
  // .bin links as npm makes them: relative, to an executable inside the tree.
  for (let l = 0; l < shape.links && l < executables.length; l += 1) {
    const target = executables[l]!.slice(top.length + 1);
    await symlink(join('..', target), join(top, '.bin', `tool-${l}`));
  }
  return { bytes };
}
