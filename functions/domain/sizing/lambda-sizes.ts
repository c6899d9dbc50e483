/**
 * Lambda limits and the runner's memory tiers.
 * Source: AWS Lambda developer guide, "Lambda quotas" and "Configure Lambda function memory"
 * (gettingstarted-limits.html, configuration-memory.html), checked 2026-08; see AWS-FACTS.md.
 */
import { UserError } from '../errors.js';

export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;
export const LAMBDA_MIN_MEMORY_MB = 128;
export const LAMBDA_MAX_MEMORY_MB = 10240;
export const LAMBDA_MIN_STORAGE_MB = 512;
export const LAMBDA_MAX_STORAGE_MB = 10240;
/** Lambda gives one vCPU's worth of CPU at 1769 MB, up to 6 vCPU at 10240 MB. */
export const LAMBDA_MB_PER_VCPU = 1769;
export const LAMBDA_MAX_VCPU = 6;

/**
 * Memory is a function setting, not an invocation parameter, so the farm deploys one
 * runner function per tier and routes each stage to the smallest tier that covers it.
 * Lambda bills memory linearly, so the smallest covering tier is also the cheapest.
 * 1024 MB is the floor: a build under about 0.6 vCPU is slow enough to cost more in time.
 */
export const LAMBDA_RUNNER_TIERS_MB: readonly number[] = [1024, 2048, 4096, 6144, 8192, 10240];

/** The architecture of the runner functions template.yaml deploys. */
export const LAMBDA_RUNNER_ARCHITECTURE = 'x86_64' as const;

/**
 * Time kept back under Lambda's 900 s for fetching the workspace and uploading
 * artifacts: a stage whose timeout or predicted duration exceeds 900 - margin goes to Fargate.
 */
export const LAMBDA_SAFETY_MARGIN_SECONDS = 60;

/** The longest a stage may be planned for on Lambda: 14 minutes. */
export const LAMBDA_PLANNABLE_SECONDS = LAMBDA_MAX_TIMEOUT_SECONDS - LAMBDA_SAFETY_MARGIN_SECONDS;

/** The memory a stage needs on Lambda: its memory, and enough for its CPU. */
export function lambdaMemoryNeeded(cpu: number, memoryMiB: number): number {
  return Math.min(LAMBDA_MAX_MEMORY_MB, Math.max(memoryMiB, Math.ceil(cpu * LAMBDA_MB_PER_VCPU), LAMBDA_MIN_MEMORY_MB));
}

/**
 * New AWS accounts may be held at 3008 MB of Lambda function memory until a quota increase:
 * creating a bigger function fails ("'MemorySize' value failed to satisfy constraint ... less
 * than or equal to 3008"), which would fail the whole stack. template.yaml therefore deploys
 * only the tiers up to its `LambdaRunnerMaxMemoryMB` parameter, by default these.
 * https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
 */
export const NEW_ACCOUNT_LAMBDA_MEMORY_QUOTA_MB = 3008;
export const DEFAULT_DEPLOYED_LAMBDA_TIERS_MB: readonly number[] = LAMBDA_RUNNER_TIERS_MB.filter(
  (tier) => tier <= NEW_ACCOUNT_LAMBDA_MEMORY_QUOTA_MB,
);

/** The smallest of `tiers` that covers `memoryMB`, or undefined when none does. */
export function lambdaTierFor(memoryMB: number, tiers: readonly number[] = LAMBDA_RUNNER_TIERS_MB): number | undefined {
  return [...tiers].sort((a, b) => a - b).find((tier) => tier >= memoryMB);
}

/**
 * The deployed runner tiers from their comma-separated form (`1024,2048`: the Plan function's
 * LAMBDA_RUNNER_TIERS_MB, the CLI's --lambda-tiers). Throws naming `where` and the allowed values.
 */
export function parseLambdaRunnerTiers(text: string, where: string): number[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const tiers = items.map(Number);
  const unknown = items.filter((item, i) => !LAMBDA_RUNNER_TIERS_MB.includes(tiers[i]!));
  if (items.length === 0 || unknown.length > 0) {
    throw new UserError(
      `${where}: "${text}" is not a list of Lambda runner tiers${unknown.length > 0 ? ` (${unknown.join(', ')} unknown)` : ''}; allowed: comma-separated values of ${LAMBDA_RUNNER_TIERS_MB.join(', ')}`,
    );
  }
  return [...new Set(tiers)].sort((a, b) => a - b);
}
