/**
 * Whether the farm runs a build it was asked for, decided by the Plan step before any stage
 * starts: a pull request from a fork may be turned away by the fork policy (before its source is
 * even fetched), and any build by the cost limits once its plan predicts what it costs. A build
 * turned away ends in a `refused` report whose reason names the setting and the figures.
 */
import { formatUsd } from '../report/format.js';
import {
  FORKS_SETTING,
  MAX_BUILD_COST_SETTING,
  MAX_FORK_BUILD_COST_SETTING,
  settingLabel,
  type FarmPolicy,
  type SettingNames,
} from './farm-policy.js';

export type Admission = { run: true } | { run: false; reason: string };

/** The part of the build request the policy reads. */
export interface AdmissionRequest {
  /** A pull request whose head is in another repository (domain/webhook/normalise.ts). */
  fromFork: boolean;
}

/**
 * True when no stage of this build may get a secret: a fork pull request unless the farm opted
 * into `forks: build`. The plan carries it (`secretsWithheld`) and the runners enforce it.
 */
export function secretsWithheld(request: AdmissionRequest, policy: FarmPolicy): boolean {
  return request.fromFork && policy.forks !== 'build';
}

/** The fork policy alone: decided first, so a refused fork's code is never fetched. */
export function admitByForkPolicy(request: AdmissionRequest, policy: FarmPolicy): Admission {
  if (request.fromFork && policy.forks === 'off') {
    return { run: false, reason: `pull requests from forks are not built on this farm (forks: off; ${settingLabel(FORKS_SETTING)})` };
  }
  return { run: true };
}

interface Limit {
  usd: number;
  what: string;
  names: SettingNames;
}

/** Dollars as a person set them: `$0.50`, `$2.00`; a sub-cent limit keeps its digits (`$0.0050`). */
export function formatLimitUsd(usd: number): string {
  return Number.isInteger(Math.round(usd * 1e6) / 1e4) ? `$${usd.toFixed(2)}` : formatUsd(usd);
}

/**
 * The cost limits that apply (every build's; a fork's own as well), and the first one the
 * prediction exceeds, the lowest first. A prediction equal to a limit is within it.
 */
export function admitByCost(request: AdmissionRequest, predictedCostUsd: number, policy: FarmPolicy): Admission {
  const limits: Limit[] = [];
  if (request.fromFork && policy.maxForkBuildCostUsd !== undefined) {
    limits.push({ usd: policy.maxForkBuildCostUsd, what: 'the fork build limit', names: MAX_FORK_BUILD_COST_SETTING });
  }
  if (policy.maxBuildCostUsd !== undefined) limits.push({ usd: policy.maxBuildCostUsd, what: 'the build limit', names: MAX_BUILD_COST_SETTING });
  // A cost that is not a number cannot be shown to be within a limit.
  const over = limits.filter((limit) => !(predictedCostUsd <= limit.usd)).sort((a, b) => a.usd - b.usd)[0];
  if (over === undefined) return { run: true };
  return {
    run: false,
    reason: `predicted ${formatUsd(predictedCostUsd)} exceeds ${over.what} ${formatLimitUsd(over.usd)} (${settingLabel(over.names)})`,
  };
}
