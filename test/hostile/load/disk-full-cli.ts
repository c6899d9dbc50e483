/**
 * Issue 11, test 2, through the CLI: `buildfarm serve` with its data
 * directory on a small tmpfs (64 MiB), and a build whose stage fills it (dd
 * until ENOSPC in its workspace, then an artifact of that size to upload).
 * The farm must keep answering its API while it happens, the build must end
 * `error` or `failed` with a reason that names the disk, a delivery on the
 * full disk must not be acknowledged without being kept, a restart (after a
 * kill -9) on the full disk must come up and answer, and `buildfarm gc` must
 * reclaim the builds' space. test/hostile/disk-full.test.ts covers the
 * embedded S3 and the build store in-process.
 *
 * Mounting needs root: without it the script says SKIPPED and exits 0.
 *
 * npx tsx test/hostile/load/disk-full-cli.ts   (DISK_MIB=64)
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFinal, getBuild, listBuilds, MiB, pushPayload, sendSignedPush, toMiB, waitSettled } from '../../support/farm-api.js';
import { NODE_22, ROOT, startFarmCli, type FarmCli } from '../../support/farm-cli.js';
import { makeGitRepo } from '../../support/git-repo.js';
import { Checks, isMain, numberFrom, runMain, type Outcome } from './checks.js';

const SECRET = 'disk-full-secret';
const DISK_REASON = /disk is full|ENOSPC|no space left/i;

const SMALL = `version: 1
on:
  push:
    branches: ['**']
stages:
  small:
    commands:
      - 'head -c 4194304 /dev/urandom > out.bin'
    artifacts:
      - out.bin
`;

/** dd stops at ENOSPC (exit 1, tolerated); the artifact is then as big as the disk was free. */
const FILLER = `version: 1
on:
  push:
    branches: ['**']
stages:
  fill:
    commands:
      - 'dd if=/dev/zero of=fill.bin bs=1M 2>&1 || true; ls -l fill.bin'
    artifacts:
      - fill.bin
`;

export interface DiskFullOptions {
  diskMiB: number;
  print?: boolean;
}

const usedBytes = (path: string) => {
  const s = statfsSync(path);
  return (s.blocks - s.bfree) * s.bsize;
};

function fillDisk(directory: string): void {
  spawnSync('dd', ['if=/dev/zero', `of=${join(directory, 'filler')}`, 'bs=64k'], { stdio: 'ignore' });
}

/** Polls GET /api/builds every 500 ms until `stop()`; counts answers that were not 200. */
function apiWatch(url: string): { stop: () => Promise<{ probes: number; failed: number }> } {
  let running = true;
  let probes = 0;
  let failed = 0;
  const loop = (async () => {
    while (running) {
      probes += 1;
      const status = await fetch(`${url}/api/builds`, { signal: AbortSignal.timeout(20_000) }).then((r) => r.status).catch(() => 0);
      if (status !== 200) failed += 1;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  })();
  return { stop: async () => ((running = false), await loop, { probes, failed }) };
}

export async function diskFullCli(options: DiskFullOptions): Promise<Outcome> {
  const checks = new Checks('disk-full-cli', options.print);
  if (process.getuid?.() !== 0) {
    checks.figure({ skipped: 'SKIPPED: mounting a small tmpfs needs root' });
    return checks;
  }
  const mountPoint = await mkdtemp(join(tmpdir(), 'disk-full-cli-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.diskMiB}m`, 'tmpfs', mountPoint]);
  const small = await makeGitRepo({ '.buildfarm.yml': SMALL });
  const filler = await makeGitRepo({ '.buildfarm.yml': FILLER });
  const dataDirectory = join(mountPoint, 'data');
  const args = ['--port', '0', '--data-dir', dataDirectory, '--repo', `octo-org/small=${small.path}`, '--repo', `octo-org/filler=${filler.path}`];
  const env = { GITHUB_WEBHOOK_SECRET: SECRET };
  let farm: FarmCli | undefined;
  try {
    farm = await startFarmCli({ args, env });
    const webhook = () => `${farm!.url}/webhook`;

    // Act 1: a small build, then one that fills the disk, with the API watched throughout.
    const watch = apiWatch(farm.url);
    const first = await sendSignedPush(webhook(), SECRET, pushPayload('octo-org/small', small.sha));
    await waitSettled(farm.url, (list) => list.length === 1 && allFinal(list), 180_000);
    const second = await sendSignedPush(webhook(), SECRET, pushPayload('octo-org/filler', filler.sha));
    const { builds, settled } = await waitSettled(farm.url, (list) => list.length === 2 && allFinal(list), 300_000);
    const api = await watch.stop();
    const fillBuild = builds.find((b) => b.id.includes(second.deliveryId));
    const record = fillBuild ? await getBuild(farm.url, fillBuild.id) : {};
    const detail = JSON.stringify(record);
    const stageReasons = ((record.report as { stages?: { name: string; status: string; errorName?: string; reason: string }[] } | null)?.stages ?? []).map((s) => `${s.name} ${s.status} ${s.errorName ?? ''}: ${s.reason}`);
    const reason = DISK_REASON.exec(detail) ? detail.slice(Math.max(0, detail.search(DISK_REASON) - 160), detail.search(DISK_REASON) + 80) : undefined;
    checks.check(first.status === 202 && second.status === 202, `deliveries answered ${first.status} and ${second.status}, expected 202`);
    checks.check(settled && fillBuild !== undefined && ['error', 'failed'].includes(fillBuild.status), `the filling build ended ${fillBuild?.status ?? 'missing'}, expected error or failed`);
    checks.check(reason !== undefined, `the filling build's record names no disk reason (${DISK_REASON})`);
    checks.check(api.failed === 0, `${api.failed} of ${api.probes} API probes failed while the disk filled`);
    checks.figure({ step: 'fill', diskMiB: options.diskMiB, build: fillBuild?.status, reason, stageReasons, error: record.error, apiProbes: api.probes, apiFailed: api.failed, usedMiB: toMiB(usedBytes(mountPoint)) });

    // Act 2: the disk completely full (from outside): a delivery now, then kill -9 and a restart.
    fillDisk(mountPoint);
    const onFull = await sendSignedPush(webhook(), SECRET, pushPayload('octo-org/small', small.sha));
    checks.figure({ step: 'delivery-on-full-disk', status: onFull.status });
    const servingOnFull = await listBuilds(farm.url).then(() => true, () => false);
    // 202 means kept (flushed to the bus): it must then have a build; anything else must be a 5xx GitHub redelivers.
    checks.check(onFull.status === 202 || onFull.status >= 500, `a delivery on the full disk answered ${onFull.status}`);
    checks.check(servingOnFull, 'the API stopped answering on the full disk');
    process.kill(farm.farmPid, 'SIGKILL');
    await farm.exited;
    const restartStarted = performance.now();
    farm = await startFarmCli({ args, env, readyTimeoutMs: 120_000 }).catch((error: Error) => {
      checks.check(false, `serve did not restart on the full disk: ${error.message.slice(0, 2000)}`);
      return undefined;
    });
    if (farm !== undefined) {
      const restartMs = performance.now() - restartStarted;
      const after = await waitSettled(farm.url, allFinal, 120_000);
      const keptOnFull = after.builds.some((b) => b.id.includes(onFull.deliveryId));
      checks.check(after.settled, `after the restart on the full disk, builds never settled: ${JSON.stringify(after.builds.map((b) => b.status))}`);
      checks.check(onFull.status !== 202 || keptOnFull, 'a delivery answered 202 on the full disk has no build after the restart');
      checks.figure({ step: 'restart-on-full-disk', restartSeconds: Math.round(restartMs / 100) / 10, deliveryOnFullDisk: onFull.status, keptOnFull, builds: after.builds.map((b) => b.status), freeKiB: Math.round(statfsSync(mountPoint).bavail * statfsSync(mountPoint).bsize / 1024) });
      await farm.stop('SIGTERM');
      farm = undefined;
    }

    // Act 3: gc, the farm stopped, everything older than now and beyond 0 builds.
    const beforeGc = usedBytes(mountPoint);
    const gc = spawnSync(NODE_22, [join(ROOT, 'bin/buildfarm.mjs'), 'gc', '--data-dir', dataDirectory, '--keep-days', '0', '--keep-builds', '0'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    const reclaimed = beforeGc - usedBytes(mountPoint);
    checks.check(gc.status === 0, `buildfarm gc exited ${gc.status}: ${gc.stdout}${gc.stderr}`);
    // The small build's 4 MiB artifact and snapshot, at least.
    checks.check(reclaimed >= 4 * MiB, `buildfarm gc reclaimed ${toMiB(reclaimed)} MiB, expected at least 4 MiB`);
    checks.figure({ step: 'gc', exit: gc.status, said: gc.stdout.trim().split('\n')[0], reclaimedMiB: toMiB(reclaimed) });
  } finally {
    if (farm !== undefined) {
      farm.top.kill('SIGKILL');
      await farm.exited;
    }
    execFileSync('umount', ['-l', mountPoint]);
    await rm(mountPoint, { recursive: true, force: true });
    await rm(small.path, { recursive: true, force: true });
    await rm(filler.path, { recursive: true, force: true });
  }
  return checks;
}

if (isMain(import.meta.url)) {
  runMain(() => diskFullCli({ diskMiB: numberFrom('DISK_MIB', 64), print: true }));
}
