/**
 * AWS CodeBuild on-demand prices, for the "what would CodeBuild have cost" comparison.
 * Source: aws.amazon.com/codebuild/pricing (us-east-1, Linux EC2 compute, per build minute,
 * billed per started minute), 2026-08. Data, not logic: extend with your region's figures.
 */
export interface CodeBuildType {
  name: string;
  vcpu: number;
  memoryGiB: number;
  perMinuteUsd: number;
}

export const CODEBUILD_LINUX_US_EAST_1: readonly CodeBuildType[] = [
  { name: 'general1.small', vcpu: 2, memoryGiB: 3, perMinuteUsd: 0.005 },
  { name: 'general1.medium', vcpu: 4, memoryGiB: 7, perMinuteUsd: 0.01 },
  { name: 'general1.large', vcpu: 8, memoryGiB: 15, perMinuteUsd: 0.02 },
  { name: 'general1.xlarge', vcpu: 36, memoryGiB: 70, perMinuteUsd: 0.2 },
  { name: 'general1.2xlarge', vcpu: 72, memoryGiB: 145, perMinuteUsd: 0.4 },
];

/** The smallest CodeBuild type covering a request, and the cost of `durationMs` on it (per started minute). */
export function codeBuildCost(cpu: number, memoryMiB: number, durationMs: number, types: readonly CodeBuildType[] = CODEBUILD_LINUX_US_EAST_1): { type: string; costUsd: number } {
  const type = types.find((t) => t.vcpu >= cpu && t.memoryGiB * 1024 >= memoryMiB) ?? types[types.length - 1];
  const minutes = Math.max(1, Math.ceil(durationMs / 60_000));
  return { type: type.name, costUsd: minutes * type.perMinuteUsd };
}
