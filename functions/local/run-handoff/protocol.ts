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

/** Differences between two settings, named by field (empty: the same). */
export function settingsDifferences(ours: FarmSettings, theirs: FarmSettings): string[] {
  const keys = new Set([...Object.keys(ours), ...Object.keys(theirs)]) as Set<keyof FarmSettings>;
  return [...keys].filter((key) => canonical(ours[key]) !== canonical(theirs[key]));
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner)
      ? Object.fromEntries(Object.entries(inner as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : inner,
  ) ?? 'undefined';
}
