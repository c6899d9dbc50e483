/**
 * An independent cost oracle: recomputes a build's bill from its raw measurements with its own
 * reading of the AWS pricing pages, sharing no code with functions/domain/pricing or
 * functions/domain/report (only the record types). Tests hold the report to it.
 *
 * Rules, as the pricing pages state them:
 * - Lambda (aws.amazon.com/lambda/pricing): duration in 1 ms increments x memory GB at the
 *   architecture's GB-second rate, $0.20 per million requests, /tmp above 512 MB per GB-second;
 *   INIT billed like duration (since 2025-08-01), no request charge.
 * - Fargate (aws.amazon.com/fargate/pricing): per second from image pull start to task stop,
 *   one-minute minimum; vCPU-hours and GB-hours (Spot: less the discount); storage above 20 GB.
 * - Public IPv4 (aws.amazon.com/vpc/pricing): per address-hour, for the task's life.
 * - CloudWatch Logs (aws.amazon.com/cloudwatch/pricing): per GB ingested.
 * - Step Functions Standard: per state transition. S3: per request, two tiers.
 */
import type { RegionPrices } from '../../functions/domain/pricing/price-book.js';

export interface OracleLambdaRun {
  memoryMB: number;
  tmpMB: number;
  arch: 'x86_64' | 'arm64';
  invocationMs: number;
  initMs: number;
}

export interface OracleTask {
  vcpu: number;
  memoryGB: number;
  storageGB: number;
  arch: 'x86_64' | 'arm64';
  spot: boolean;
  /** Pull start to stop, ms. */
  lifeMs: number;
}

export interface OracleStage {
  name: string;
  lambda: OracleLambdaRun[];
  tasks: OracleTask[];
  logBytes: number;
}

export interface OracleBill {
  stages: Record<string, number>;
  computeUsd: number;
  ipv4Usd: number;
  logsUsd: number;
  transitionsUsd: number;
  s3Usd: number;
  totalUsd: number;
}

function lambdaUsd(run: OracleLambdaRun, p: RegionPrices): number {
  const rates = p[run.arch];
  const gb = run.memoryMB / 1024;
  const tmpGb = Math.max(0, run.tmpMB - 512) / 1024;
  const invokeS = Math.ceil(run.invocationMs) / 1000;
  const initS = Math.ceil(run.initMs) / 1000;
  const perSecond = gb * rates.lambdaGbSecond + tmpGb * rates.lambdaStorageGbSecond;
  return perSecond * invokeS + rates.lambdaRequest + perSecond * initS;
}

function taskUsd(task: OracleTask, p: RegionPrices): number {
  const rates = p[task.arch];
  let seconds = Math.ceil(task.lifeMs / 1000);
  if (seconds < 60) seconds = 60;
  const hours = seconds / 3600;
  const compute = (task.vcpu * rates.fargateVcpuHour + task.memoryGB * rates.fargateGbHour) * hours * (task.spot ? 1 - p.fargateSpotDiscount : 1);
  return compute + Math.max(0, task.storageGB - 20) * rates.fargateStorageGbHour * hours;
}

export function oracleBill(stages: OracleStage[], build: { transitions: number; s3Tier1: number; s3Tier2: number; publicIp: boolean }, p: RegionPrices): OracleBill {
  const bill: OracleBill = { stages: {}, computeUsd: 0, ipv4Usd: 0, logsUsd: 0, transitionsUsd: 0, s3Usd: 0, totalUsd: 0 };
  for (const stage of stages) {
    const compute = stage.lambda.reduce((s, r) => s + lambdaUsd(r, p), 0) + stage.tasks.reduce((s, t) => s + taskUsd(t, p), 0);
    const ipv4 = build.publicIp ? stage.tasks.reduce((s, t) => s + (t.lifeMs / 3_600_000) * p.publicIpv4Hour, 0) : 0;
    const logs = (stage.logBytes / 1024 ** 3) * p.cloudWatchLogsIngestGb;
    bill.stages[stage.name] = compute + ipv4 + logs;
    bill.computeUsd += compute;
    bill.ipv4Usd += ipv4;
    bill.logsUsd += logs;
  }
  bill.transitionsUsd = build.transitions * p.stateTransition;
  bill.s3Usd = build.s3Tier1 * p.s3WriteRequest + build.s3Tier2 * p.s3ReadRequest;
  bill.totalUsd = bill.computeUsd + bill.ipv4Usd + bill.logsUsd + bill.transitionsUsd + bill.s3Usd;
  return bill;
}
