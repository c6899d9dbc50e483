/**
 * Issue 11, test 4: a stage that prints 1 GiB to stdout, through the real
 * `buildfarm serve`. The stored log must be at most the default cap (64 MiB)
 * plus its truncation marker; GET of the log, whole and with a Range, must
 * answer in bounded time; the farm's memory (serve and all its children,
 * summed PSS: each physical page once, see treePssBytes) must stay bounded
 * while the stage prints and while the log is served. Before the cap (issue 11) the log was stored whole and a GET of it
 * failed with a 500 after 6 to 44 s, allocating about 1.8 GB each time.
 *
 * npx tsx test/hostile/load/big-log.ts   (LOG_MIB=1024)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allFinal, MiB, pushPayload, sendSignedPush, toMiB, waitSettled } from '../../support/farm-api.js';
import { startFarmCli, type FarmCli } from '../../support/farm-cli.js';
import { makeGitRepo } from '../../support/git-repo.js';
import { treePssBytes, treeRssBytes } from '../../support/process-tree.js';
import { Checks, isMain, numberFrom, runMain, type Outcome } from './checks.js';

const SECRET = 'big-log-secret';
const REPOSITORY = 'octo-org/big-log';
/** The default per-stage log cap (docs/runner.md) and room for the marker line. */
const CAP = 64 * MiB;
const MARKER_ROOM = 4096;
const MARKER = '[buildfarm: ';
/**
 * Allowed above the idle farm while the stage prints: the build's own process (about 45 MiB of PSS
 * before its stage prints), the capped log's tail ring (32 MiB) until the stage ends, pipe reads
 * V8 has not yet collected (it collects ArrayBuffers when their external bytes grow by 64 MiB), and
 * the log's upload (lib-storage: up to 5 parts of 8 MiB); and while the log is served (streamed,
 * never whole).
 */
export const PRINTING_OVERHEAD = 192 * MiB;
export const SERVING_OVERHEAD = 64 * MiB;
/** Bounds on answering the log (generous: the machine these run on is shared). */
export const WHOLE_GET_MS = 60_000;
export const RANGED_GET_MS = 5_000;

export interface BigLogOptions {
  logBytes: number;
  print?: boolean;
}

function pipeline(bytes: number): string {
  return `version: 1
on:
  push:
    branches: ['**']
stages:
  loud:
    timeout: 20m
    commands:
      - "yes 'buildfarm big-log line 0123456789abcdefghijklmnopqrstuvwxyz' | head -c ${bytes}"
`;
}

interface Memory {
  /** Summed PSS of the farm's tree (each page once): what the bounds judge. */
  pss: number;
  /** Summed VmRSS (shared pages once per process), printed for comparison with earlier runs. */
  rss: number;
}

function treeMemory(pid: number): Memory {
  return { pss: treePssBytes(pid), rss: treeRssBytes(pid) };
}

/** Samples the farm's tree memory every 200 ms; `take()` returns the peaks so far and starts again. */
function memoryPeaks(pid: number): { take: () => Memory; stop: () => void } {
  let peak: Memory = { pss: 0, rss: 0 };
  const sample = () => {
    const now = treeMemory(pid);
    peak = { pss: Math.max(peak.pss, now.pss), rss: Math.max(peak.rss, now.rss) };
  };
  const timer = setInterval(sample, 200);
  return {
    take: () => {
      sample();
      const value = peak;
      peak = { pss: 0, rss: 0 };
      return value;
    },
    stop: () => clearInterval(timer),
  };
}

/** GETs `url`, streaming the body away; counts bytes and whether `MARKER` occurs. */
async function getLog(url: string, range?: string): Promise<{ status: number; bytes: number; ms: number; marker: boolean; contentRange: string | null }> {
  const started = performance.now();
  const response = await fetch(url, { headers: range ? { range } : {}, signal: AbortSignal.timeout(300_000) });
  let bytes = 0;
  let marker = false;
  let carry = '';
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (!marker) {
      const text = carry + Buffer.from(chunk).toString('latin1');
      marker = text.includes(MARKER);
      carry = text.slice(-MARKER.length);
    }
  }
  return { status: response.status, bytes, ms: Math.round(performance.now() - started), marker, contentRange: response.headers.get('content-range') };
}

export async function bigLog(options: BigLogOptions): Promise<Outcome> {
  const checks = new Checks('big-log', options.print);
  const directory = await mkdtemp(join(tmpdir(), 'big-log-'));
  const repo = await makeGitRepo({ '.buildfarm.yml': pipeline(options.logBytes) });
  let farm: FarmCli | undefined;
  try {
    farm = await startFarmCli({ args: ['--port', '0', '--data-dir', join(directory, 'data'), '--repo', `${REPOSITORY}=${repo.path}`], env: { GITHUB_WEBHOOK_SECRET: SECRET } });
    for (let i = 0; i < 3; i += 1) await fetch(`${farm.url}/api/builds`).then((r) => r.arrayBuffer());
    const before = treeMemory(farm.farmPid);
    const peaks = memoryPeaks(farm.farmPid);

    // Act 1: the build that prints.
    const started = performance.now();
    const delivery = await sendSignedPush(`${farm.url}/webhook`, SECRET, pushPayload(REPOSITORY, repo.sha));
    const { builds, settled } = await waitSettled(farm.url, (list) => list.length === 1 && allFinal(list), 1_200_000);
    const buildSeconds = Math.round((performance.now() - started) / 100) / 10;
    const printingPeak = peaks.take();
    const build = builds[0];
    checks.check(delivery.status === 202 && settled && build?.status === 'succeeded', `the build ended ${build?.status ?? 'missing'} (delivery ${delivery.status}), expected succeeded`);

    // Act 2: the log, whole and in ranges (judged against the farm as the build left it).
    const beforeServing = treeMemory(farm.farmPid);
    peaks.take();
    const logUrl = `${farm.url}/api/builds/${encodeURIComponent(build?.id ?? 'none')}/stages/loud/log`;
    const whole = await getLog(logUrl);
    const last = await getLog(logUrl, 'bytes=-65536');
    const first = await getLog(logUrl, 'bytes=0-1023');
    const beyond = await getLog(logUrl, `bytes=${whole.bytes + 10}-`);
    const servingPeak = peaks.take();
    peaks.stop();

    checks.figure({
      printedMiB: toMiB(options.logBytes),
      build: build?.status,
      buildSeconds,
      storedLogBytes: whole.bytes,
      marker: whole.marker,
      gets: { whole: { status: whole.status, ms: whole.ms }, last64KiB: { status: last.status, bytes: last.bytes, ms: last.ms, contentRange: last.contentRange }, first1KiB: { status: first.status, bytes: first.bytes, ms: first.ms }, pastEnd: { status: beyond.status, ms: beyond.ms } },
      pssMiB: { before: toMiB(before.pss), peakWhilePrinting: toMiB(printingPeak.pss), beforeServing: toMiB(beforeServing.pss), peakWhileServing: toMiB(servingPeak.pss) },
      boundsMiB: { printing: toMiB(before.pss + PRINTING_OVERHEAD), serving: toMiB(beforeServing.pss + SERVING_OVERHEAD) },
      summedRssMiB: { before: toMiB(before.rss), peakWhilePrinting: toMiB(printingPeak.rss), beforeServing: toMiB(beforeServing.rss), peakWhileServing: toMiB(servingPeak.rss) },
    });

    // Assess
    checks.check(whole.status === 200, `GET of the log answered ${whole.status}`);
    const capped = options.logBytes > CAP;
    checks.check(whole.bytes <= CAP + MARKER_ROOM, `the stored log is ${whole.bytes} bytes, over the cap ${CAP} + ${MARKER_ROOM}`);
    checks.check(!capped || whole.marker, 'the stored log has no truncation marker');
    checks.check(whole.ms <= WHOLE_GET_MS, `GET of the whole log took ${whole.ms} ms (bound ${WHOLE_GET_MS})`);
    checks.check(last.status === 206 && last.bytes === 65536 && last.contentRange === `bytes ${whole.bytes - 65536}-${whole.bytes - 1}/${whole.bytes}` && last.ms <= RANGED_GET_MS, `GET of the last 64 KiB: ${last.status}, ${last.bytes} bytes in ${last.ms} ms`);
    checks.check(first.status === 206 && first.bytes === 1024 && first.ms <= RANGED_GET_MS, `GET of the first KiB: ${first.status}, ${first.bytes} bytes in ${first.ms} ms`);
    checks.check(beyond.status === 416, `GET past the end answered ${beyond.status}, expected 416`);
    checks.check(printingPeak.pss <= before.pss + PRINTING_OVERHEAD, `memory (PSS) while printing peaked at ${toMiB(printingPeak.pss)} MiB, over idle ${toMiB(before.pss)} + ${toMiB(PRINTING_OVERHEAD)}`);
    checks.check(servingPeak.pss <= beforeServing.pss + SERVING_OVERHEAD, `memory (PSS) while serving the log peaked at ${toMiB(servingPeak.pss)} MiB, over ${toMiB(beforeServing.pss)} (before the GETs) + ${toMiB(SERVING_OVERHEAD)}`);
  } finally {
    await farm?.stop('SIGTERM');
    await rm(directory, { recursive: true, force: true });
    await rm(repo.path, { recursive: true, force: true });
  }
  return checks;
}

if (isMain(import.meta.url)) {
  runMain(() => bigLog({ logBytes: numberFrom('LOG_MIB', 1024) * MiB, print: true }));
}
