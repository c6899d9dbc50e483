/**
 * Valid Fargate (Linux) task sizes, as data.
 * Source: AWS ECS developer guide, "Task CPU and memory" (fargate-tasks-services.html#fargate-tasks-size),
 * checked 2026-08 against the botocore ECS model; see ../shared/design/AWS-FACTS.md.
 */

export interface FargateCpuRow {
  /** CPU units (1024 = 1 vCPU). */
  cpu: number;
  minMemory: number;
  maxMemory: number;
  step: number;
  /** The sizes of 8 and 16 vCPU need platform version 1.4.0 or later. */
  minPlatformVersion?: string;
}

export const FARGATE_CPU_ROWS: readonly FargateCpuRow[] = [
  { cpu: 256, minMemory: 512, maxMemory: 2048, step: 0 /* 512, 1024, 2048: listed below */ },
  { cpu: 512, minMemory: 1024, maxMemory: 4096, step: 1024 },
  { cpu: 1024, minMemory: 2048, maxMemory: 8192, step: 1024 },
  { cpu: 2048, minMemory: 4096, maxMemory: 16384, step: 1024 },
  { cpu: 4096, minMemory: 8192, maxMemory: 30720, step: 1024 },
  { cpu: 8192, minMemory: 16384, maxMemory: 61440, step: 4096, minPlatformVersion: '1.4.0' },
  { cpu: 16384, minMemory: 32768, maxMemory: 122880, step: 8192, minPlatformVersion: '1.4.0' },
];

export interface FargatePair {
  cpu: number;
  memory: number;
}

function memoriesOf(row: FargateCpuRow): number[] {
  // The 0.25 vCPU row is not a regular range: 512, 1024 and 2048 only.
  if (row.cpu === 256) return [512, 1024, 2048];
  const out: number[] = [];
  for (let m = row.minMemory; m <= row.maxMemory; m += row.step) out.push(m);
  return out;
}

/** Every valid (cpu, memory) pair, smallest CPU first. */
export const FARGATE_PAIRS: readonly FargatePair[] = FARGATE_CPU_ROWS.flatMap((row) =>
  memoriesOf(row).map((memory) => ({ cpu: row.cpu, memory })),
);

export const FARGATE_MAX_CPU_UNITS = 16384;
export const FARGATE_MAX_MEMORY_MIB = 122880;

/** Ephemeral storage: 20 GiB is included; an override takes 21 to 200. */
export const FARGATE_DEFAULT_STORAGE_GIB = 20;
export const FARGATE_MAX_STORAGE_GIB = 200;

export function isValidFargatePair(cpu: number, memory: number): boolean {
  return FARGATE_PAIRS.some((p) => p.cpu === cpu && p.memory === memory);
}

/** The storage to ask for: at least the 20 GiB every task gets, whole GiB. */
export function fargateStorageGiB(diskMiB: number): number {
  return Math.max(FARGATE_DEFAULT_STORAGE_GIB, Math.ceil(diskMiB / 1024));
}
