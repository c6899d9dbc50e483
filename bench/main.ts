/**
 * Runs the benchmark sections one after another (never in parallel: they share two cores),
 * prints the table, and writes the figures with the machine and date to bench/results.json.
 * A section that fails is reported and recorded, and the others still run.
 */
import { writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchArchive } from './archive.js';
import { benchBundleAndInit } from './bundle-init.js';
import { benchChain } from './chain.js';
import { benchCriticalPath } from './critical-path.js';
import { benchExpress } from './express.js';
import { ROOT } from './lib/child.js';
import type { Figure, SectionResult } from './lib/figure.js';
import { machine } from './lib/machine.js';
import { msSince, round } from './lib/stats.js';
import { formatTable } from './lib/table.js';
import { benchOverhead } from './overhead.js';
import { benchPlan, type TransitionsPerStage } from './plan.js';
import { benchTransitions } from './transitions.js';
import { benchUpload } from './upload.js';
import { benchWebhook } from './webhook.js';
import { benchBusyWebhook } from './webhook-under-builds.js';

export const SECTIONS = ['webhook', 'busy-webhook', 'bundle', 'transitions', 'plan', 'chain', 'critical-path', 'overhead', 'upload', 'archive', 'express'] as const;
export type SectionName = (typeof SECTIONS)[number];

interface SectionRecord extends Partial<SectionResult> {
  seconds: number;
  loadAverageAfter: number[];
  error?: string;
}

export async function main(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { only: { type: 'string' }, out: { type: 'string' }, quick: { type: 'boolean' } } });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((name) => !(SECTIONS as readonly string[]).includes(name)) ?? [];
  if (unknown.length > 0) {
    console.error(`unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.join(', ')}`);
    return 2;
  }
  const selected = SECTIONS.filter((name) => only === undefined || only.includes(name));
  const out = values.out ?? (only === undefined ? join(ROOT, 'bench', 'results.json') : undefined);

  const started = process.hrtime.bigint();
  const results: { date: string; machine: ReturnType<typeof machine>; totalSeconds?: number; figures: Figure[]; sections: Record<string, SectionRecord> } = {
    date: new Date().toISOString(),
    machine: machine(),
    figures: [],
    sections: {},
  };
  let transitionsPerStage: TransitionsPerStage | undefined;
  let failed = false;

  const runners: Record<SectionName, () => Promise<SectionResult>> = {
    webhook: benchWebhook,
    'busy-webhook': benchBusyWebhook,
    bundle: benchBundleAndInit,
    transitions: async () => {
      const result = await benchTransitions();
      transitionsPerStage = result.perStage;
      return result;
    },
    plan: () => benchPlan(transitionsPerStage),
    chain: benchChain,
    'critical-path': benchCriticalPath,
    overhead: benchOverhead,
    upload: benchUpload,
    archive: benchArchive,
    // --quick: the dependency-free project, no network (what test/bench/express-bench.test.ts runs).
    express: () => benchExpress({ quick: values.quick === true }),
  };

  for (const name of selected) {
    process.stderr.write(`bench: ${name}...`);
    const sectionStart = process.hrtime.bigint();
    try {
      const result = await runners[name]();
      const seconds = round(msSince(sectionStart) / 1000);
      results.sections[name] = { ...result, seconds, loadAverageAfter: loadavg().map((n) => round(n)) };
      results.figures.push(...result.figures);
      process.stderr.write(` ${seconds} s\n`);
      for (const note of result.notes ?? []) process.stderr.write(`  note: ${note}\n`);
    } catch (error) {
      failed = true;
      const seconds = round(msSince(sectionStart) / 1000);
      const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      results.sections[name] = { seconds, loadAverageAfter: loadavg().map((n) => round(n)), error: message };
      process.stderr.write(` FAILED after ${seconds} s: ${message}\n`);
    }
  }
  results.totalSeconds = round(msSince(started) / 1000);

  const m = results.machine;
  console.log(`\n${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, ${results.date}; load average at start ${m.loadAverageAtStart.join(' ')}\n`);
  console.log(formatTable(results.figures));
  console.log(`\n${results.totalSeconds} s in all.`);
  if (out !== undefined) {
    await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`Written to ${out}.`);
  }
  return failed ? 1 : 0;
}
