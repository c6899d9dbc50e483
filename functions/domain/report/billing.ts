/**
 * Billed durations, by the rules each service bills by.
 * Lambda: https://aws.amazon.com/lambda/pricing/ (duration rounded up to the nearest 1 ms).
 * Fargate: https://aws.amazon.com/fargate/pricing/ (per second from image pull start to task
 * stop, rounded up to the second, one-minute minimum).
 */

const FARGATE_MINIMUM_MS = 60_000;

export function lambdaBilledMs(durationMs: number): number {
  return Math.max(0, Math.ceil(durationMs));
}

/** Rounds a Fargate run up to the whole second, with the one-minute minimum. */
export function fargateBilledMsFromDuration(durationMs: number): number {
  const seconds = Math.ceil(Math.max(0, durationMs) / 1000);
  return Math.max(FARGATE_MINIMUM_MS, seconds * 1000);
}

/**
 * Billing from the task's timestamps (epoch ms, from the `.sync` output). A task that never
 * started pulling its image was never billed.
 */
export function fargateBilledMs(pullStartedAt: number | undefined, stoppedAt: number | undefined): number {
  if (pullStartedAt === undefined || stoppedAt === undefined) return 0;
  return fargateBilledMsFromDuration(stoppedAt - pullStartedAt);
}

/** Costs are sums of small products: round away float noise, keep sub-cent precision. */
export function roundUsd(value: number): number {
  return Math.round(value * 1e10) / 1e10;
}
