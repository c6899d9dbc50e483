/**
 * How a report's numbers read to a person: money, durations and runner sizes,
 * shared by the text summary, the SNS message and the commit statuses.
 */
import type { FargateSize, LambdaSize, Runner } from '../plan/types.js';

/**
 * Dollars with enough digits to tell builds apart: four decimals under a
 * dollar (most builds cost fractions of a cent), cents above. A number that is
 * not finite reads `$?` rather than `$NaN`.
 */
export function formatUsd(usd: number): string {
  if (!Number.isFinite(usd)) return '$?';
  const sign = usd < 0 ? '-' : '';
  const amount = Math.abs(usd);
  return `${sign}$${amount < 1 ? amount.toFixed(4) : amount.toFixed(2)}`;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const pad = (n: number): string => String(n).padStart(2, '0');

/** `850ms`, `14s`, `2m 14s`, `1h 02m`, `3d 04h`: two units at most, whole units only. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < SECOND) return `${Math.round(ms)}ms`;
  if (ms < MINUTE) return `${Math.floor(ms / SECOND)}s`;
  if (ms < HOUR) return `${Math.floor(ms / MINUTE)}m ${pad(Math.floor((ms % MINUTE) / SECOND))}s`;
  if (ms < DAY) return `${Math.floor(ms / HOUR)}h ${pad(Math.floor((ms % HOUR) / MINUTE))}m`;
  return `${Math.floor(ms / DAY)}d ${pad(Math.floor((ms % DAY) / HOUR))}h`;
}

/** 256 CPU units are a quarter vCPU; 1024 are one. */
function formatVcpu(cpuUnits: number): string {
  return `${Number((cpuUnits / 1024).toFixed(2))} vCPU`;
}

/** Fargate memory is in MiB; people read GB (512 MiB reads `0.5 GB`). */
function formatGb(mib: number): string {
  return `${Number((mib / 1024).toFixed(2))} GB`;
}

export function describeLambdaSize(size: LambdaSize): string {
  const arch = size.architecture === 'arm64' ? ' arm64' : '';
  return `Lambda ${size.memoryMB} MB${arch}`;
}

export function describeFargateSize(size: FargateSize): string {
  const kind = size.spot ? 'Fargate Spot' : 'Fargate';
  const arch = size.architecture === 'arm64' ? ' arm64' : '';
  return `${kind} ${formatVcpu(size.cpu)} ${formatGb(size.memory)}${arch}`;
}

/** What a stage ran on, e.g. `Lambda 2048 MB` or `Fargate 1 vCPU 2 GB`. */
export function describeRunner(stage: { runner: Runner; lambda?: LambdaSize; fargate?: FargateSize }): string {
  if (stage.runner === 'lambda') return stage.lambda ? describeLambdaSize(stage.lambda) : 'Lambda';
  return stage.fargate ? describeFargateSize(stage.fargate) : 'Fargate';
}
