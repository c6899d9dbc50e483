/**
 * `buildfarm run` handing its build to a `buildfarm serve` already running on the same data
 * directory (issue 12's fixed overhead: the farm's code is loaded there, and a build process is
 * forked and loaded in advance, so `run` pays neither). JSON lines over a unix socket:
 *
 *   run -> farm: `run` (the build, its repository, the settings `run` would build with), later `abort`
 *   farm -> run: `refused` (the settings differ: `run` builds in its own process), or `accepted`,
 *                then the build's progress, then `report` (with its plain files' folder) or `error`
 *
 * The socket lives in a folder only its owner may enter (see socket-folder.ts): whoever can connect
 * could run `buildfarm run` on this data directory anyway.
 */
import { join } from 'node:path';
import type { FarmPolicy } from '../../domain/plan/farm-policy.js';
import type { Plan, PlannerConfig } from '../../domain/plan/types.js';
import type { PriceBook } from '../../domain/pricing/price-book.js';
import type { BuildRequest } from '../../domain/build-request.js';
import type { BuildReport, StageResult } from '../../domain/report/types.js';
import type { LocalSourceMapping } from '../farm-context.js';

/** Raised when either side changes what a message means. */
export const RUN_HANDOFF_PROTOCOL = 1;
/** The folder (mode 0700) and the socket in it, under the data directory. */
export const HANDOFF_FOLDER = 'run-handoff';
export const HANDOFF_SOCKET = 'farm.sock';
/** sockaddr_un's sun_path is 108 bytes with its terminating NUL (unix(7)); a longer path cannot be bound. */
export const MAX_SOCKET_PATH_BYTES = 107;
/** A line longer than this ends the connection (a run message is a few KiB; a plan a few hundred). */
export const MAX_LINE_BYTES = 8 * 1024 * 1024;

export function handOffSocketPath(dataDirectory: string): string {
  return join(dataDirectory, HANDOFF_FOLDER, HANDOFF_SOCKET);
}

/**
 * Everything that decides how a build is planned, priced and run, compared as JSON: a `run` whose
 * flags or environment give other values than the farm started with builds in its own process.
 */
export interface FarmSettings {
  protocol: number;
  /** Region, Lambda /tmp and tiers, optimize goal (--region, --lambda-storage, --lambda-tiers ...). */
  planner: PlannerConfig;
  prices: PriceBook;
  policy: FarmPolicy;
  maxStageConcurrency: number;
  /** BUILDFARM_SANDBOX as the process saw it. */
  sandboxSetting: string | null;
}

export function farmSettings(planner: PlannerConfig, prices: PriceBook, policy: FarmPolicy, maxStageConcurrency: number, env: NodeJS.ProcessEnv): FarmSettings {
  return { protocol: RUN_HANDOFF_PROTOCOL, planner, prices, policy, maxStageConcurrency, sandboxSetting: env.BUILDFARM_SANDBOX ?? null };
}

export type ToFarm =
  | { type: 'run'; settings: FarmSettings; buildId: string; request: BuildRequest; repository: LocalSourceMapping }
  | { type: 'abort' };

export type FromFarm =
  | { type: 'refused'; reason: string }
  /** `sandbox`: what the farm's sandbox probe found, as `run` would print it; `queued`: builds ahead of this one. */
  | { type: 'accepted'; pid: number; dashboard: string; sandbox: string; sandboxDegraded: boolean; queued: number }
  | { type: 'planned'; plan: Plan }
  | { type: 'stageStarted'; stage: string; at: string }
  | { type: 'stageLog'; stage: string; chunk: string }
  | { type: 'stageFinished'; result: StageResult }
  | { type: 'report'; report: BuildReport; directory: string }
  | { type: 'error'; error: { name: string; message: string } };

/** Differences between two settings, named by field, one level into objects (empty: the same). */
export function settingsDifferences(ours: FarmSettings, theirs: FarmSettings): string[] {
  const differences: string[] = [];
  for (const key of unionOfKeys(ours, theirs)) {
    const [mine, other] = [ours[key as keyof FarmSettings] as unknown, theirs[key as keyof FarmSettings] as unknown];
    if (canonical(mine) === canonical(other)) continue;
    if (isRecord(mine) && isRecord(other)) {
      for (const inner of unionOfKeys(mine, other)) if (canonical(mine[inner]) !== canonical(other[inner])) differences.push(`${key}.${inner}`);
    } else differences.push(key);
  }
  return differences;
}

/** Where a user sets each field (a flag, or its environment variable): what a refusal names. */
const WHERE_SET: Record<string, string> = {
  protocol: 'the buildfarm version',
  'planner.region': '--region',
  'planner.lambdaEphemeralStorageMB': '--lambda-storage',
  'planner.lambdaRunnerTiersMB': '--lambda-tiers',
  'planner.optimize': '--optimize',
  'policy.optimize': '--optimize',
  'policy.forks': '--forks',
  'policy.maxBuildCostUsd': '--max-build-cost',
  'policy.maxForkBuildCostUsd': '--max-fork-build-cost',
  'policy.budgets': 'the budgets (--daily-budget, --monthly-budget, --repo-daily-budget, --repo-monthly-budget)',
  'policy.prCostThresholdPercent': '--pr-cost-threshold',
  maxStageConcurrency: '--stage-concurrency',
  sandboxSetting: 'BUILDFARM_SANDBOX',
};

/** The differences as the user set them: flags (or their environment variables), each once. */
export function describeDifferences(differences: readonly string[]): string {
  const named = differences.map((path) => WHERE_SET[path] ?? (path.startsWith('prices.') ? '--prices' : path));
  return [...new Set(named)].join(', ');
}

function unionOfKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    isRecord(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  ) ?? 'undefined';
}
