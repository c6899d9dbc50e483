/** The readable plan table `buildfarm plan` prints. */
import { formatMiB, formatSeconds } from '../domain/pipeline/units.js';
import type { FargateSize, LambdaSize, Plan } from '../domain/plan/types.js';
import { rightSizingLines } from '../domain/sizing/right-size.js';

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(6)}`;
  return `$${usd.toFixed(4)}`;
}

export function describeLambda(size: LambdaSize): string {
  return `${size.memoryMB} MB, /tmp ${size.ephemeralStorageMB} MB, ${size.architecture}`;
}

export function describeFargate(size: FargateSize): string {
  const vcpu = size.cpu / 1024;
  return `${vcpu} vCPU / ${formatMiB(size.memory)}, ${size.ephemeralStorageGiB} GiB disk, ${size.architecture}${size.spot ? ', Spot' : ''}`;
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (c === r.length - 1 ? 0 : r[c].length))));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ').trimEnd()).join('\n');
}

export function formatPlan(plan: Plan): string {
  const rows = [['STAGE', 'WAVE', 'RUNNER', 'SIZE', 'TIMEOUT', 'PREDICTED', 'REASON']];
  for (const s of plan.stages) {
    const size = s.runner === 'lambda' && s.lambda ? describeLambda(s.lambda) : describeFargate(s.fargate);
    rows.push([s.name, String(s.wave + 1), s.runner, size, formatSeconds(s.timeoutSeconds), formatUsd(s.predictedCostUsd), s.reason]);
  }
  const lines = [table(rows)];
  for (const s of plan.skipped) lines.push(`skipped ${s.name}: ${s.reason}`);
  for (const s of plan.stages) if (s.autoSized) lines.push(`${s.name}: ${s.autoSized}`);
  const sizing = plan.stages.flatMap((s) => (s.rightSizing ? [s.rightSizing] : []));
  if (sizing.length > 0) lines.push('', ...rightSizingLines(sizing));
  const waves = plan.waves.length;
  lines.push(
    '',
    `${plan.stages.length} stage${plan.stages.length === 1 ? '' : 's'} in ${waves} wave${waves === 1 ? '' : 's'}; ` +
      `predicted cost at most ${formatUsd(plan.predictedCostUsd)} (${plan.region}, compute only, from timeouts unless history exists)`,
  );
  return `${lines.join('\n')}\n`;
}
