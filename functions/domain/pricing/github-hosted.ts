/**
 * GitHub-hosted runners, the price most users compare a build farm with. GitHub bills each job
 * per minute, rounding "the minutes and partial minutes each job uses up to the nearest whole
 * minute" (docs.github.com/en/billing/reference/actions-runner-pricing). Prices are data: dated,
 * sourced, and replaceable as a whole by the caller (the report takes them as an argument).
 */
import type { Architecture } from '../pipeline/types.js';

export interface GitHubRunnerPrice {
  /** GitHub's billing SKU (or the runner label for standard runners). */
  sku: string;
  architecture: Architecture;
  cores: number;
  memoryGiB: number;
  perMinuteUsd: number;
}

export interface GitHubHostedPrices {
  source: string;
  asOf: string;
  /** Linux runners, smallest first within each architecture. */
  runners: readonly GitHubRunnerPrice[];
}

/**
 * Linux rates after GitHub's price reduction of 2026-01-01 ("up to 39%", announced 2025-12-16:
 * github.com/resources/insights/2026-pricing-changes-for-github-actions). Per-minute figures from
 * GitHub's "Actions runner pricing" reference (github/docs content/billing/reference/
 * actions-runner-pricing.md, read 2026-11-30): standard Linux 2-core x64 $0.006 (was $0.008),
 * Linux 2-core arm64 $0.005; larger runners linux_4_core $0.012 ... linux_96_core $0.252 and
 * linux_N_core_arm $0.008 ... $0.098. Memory per size from GitHub's runner reference (2-core
 * private-repository standard runner 7 GB; larger runners 4 GB per core). Public repositories run
 * standard runners free; this compares with what a private repository pays.
 */
export const GITHUB_HOSTED_PRICES: GitHubHostedPrices = {
  source: 'docs.github.com/en/billing/reference/actions-runner-pricing (rates from 2026-01-01)',
  asOf: '2026-01-01',
  runners: [
    { sku: 'ubuntu-latest (linux 2-core)', architecture: 'x86_64', cores: 2, memoryGiB: 7, perMinuteUsd: 0.006 },
    { sku: 'linux_4_core', architecture: 'x86_64', cores: 4, memoryGiB: 16, perMinuteUsd: 0.012 },
    { sku: 'linux_8_core', architecture: 'x86_64', cores: 8, memoryGiB: 32, perMinuteUsd: 0.022 },
    { sku: 'linux_16_core', architecture: 'x86_64', cores: 16, memoryGiB: 64, perMinuteUsd: 0.042 },
    { sku: 'linux_32_core', architecture: 'x86_64', cores: 32, memoryGiB: 128, perMinuteUsd: 0.082 },
    { sku: 'linux_64_core', architecture: 'x86_64', cores: 64, memoryGiB: 256, perMinuteUsd: 0.162 },
    { sku: 'linux_96_core', architecture: 'x86_64', cores: 96, memoryGiB: 384, perMinuteUsd: 0.252 },
    { sku: 'ubuntu-24.04-arm (linux 2-core arm)', architecture: 'arm64', cores: 2, memoryGiB: 7, perMinuteUsd: 0.005 },
    { sku: 'linux_4_core_arm', architecture: 'arm64', cores: 4, memoryGiB: 16, perMinuteUsd: 0.008 },
    { sku: 'linux_8_core_arm', architecture: 'arm64', cores: 8, memoryGiB: 32, perMinuteUsd: 0.014 },
    { sku: 'linux_16_core_arm', architecture: 'arm64', cores: 16, memoryGiB: 64, perMinuteUsd: 0.026 },
    { sku: 'linux_32_core_arm', architecture: 'arm64', cores: 32, memoryGiB: 128, perMinuteUsd: 0.05 },
    { sku: 'linux_64_core_arm', architecture: 'arm64', cores: 64, memoryGiB: 256, perMinuteUsd: 0.098 },
  ],
};

export interface GitHubJob {
  architecture: Architecture;
  /** The stage's size: vCPUs and memory MiB (its Fargate pair, which covers its request). */
  vcpu: number;
  memoryMiB: number;
  durationMs: number;
}

/**
 * One job on the smallest runner of its architecture that covers its vCPUs and memory (the
 * largest one when none does), rounded up to a whole minute. A job that never ran costs nothing.
 */
export function githubHostedJobCost(job: GitHubJob, prices: GitHubHostedPrices = GITHUB_HOSTED_PRICES): { sku: string; minutes: number; costUsd: number } {
  const candidates = prices.runners.filter((r) => r.architecture === job.architecture);
  const runner = candidates.find((r) => r.cores >= job.vcpu && r.memoryGiB * 1024 >= job.memoryMiB) ?? candidates[candidates.length - 1];
  if (!runner) return { sku: 'none', minutes: 0, costUsd: 0 };
  const minutes = job.durationMs > 0 ? Math.ceil(job.durationMs / 60_000) : 0;
  return { sku: runner.sku, minutes, costUsd: minutes * runner.perMinuteUsd };
}
