import { parseArgs } from 'node:util';
import { PipelineInvalid, UserError } from '../../domain/errors.js';
import { planPipeline } from '../../domain/plan/planner.js';
import { FARM_OPTIONS, loadPriceBook, plannerConfig } from '../farm-config.js';
import { loadPipelineFile } from '../load-pipeline.js';
import type { CliIo } from '../main.js';

const HELP = `Usage: buildfarm validate [FILE|DIR ...] [--lambda-storage MB] [--lambda-tiers LIST] [--region R] [--prices FILE]

Checks pipeline files (default ./.buildfarm.yml; a DIR stands for DIR/.buildfarm.yml):
syntax, fields, needs, cycles, sizes, and what the farm's settings allow. Every file
given is checked. Exits 0 when all are valid, 1 with every error of every file
(file:line:column field: what is wrong) otherwise.`;

export async function validateCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' }, ...FARM_OPTIONS },
  });
  if (values.help) {
    io.stdout.write(`${HELP}\n`);
    return 0;
  }
  const config = plannerConfig(values, io.env);
  const prices = await loadPriceBook(values, io.env);
  const files = positionals.length > 0 ? positionals : [undefined];
  let invalid = 0;
  for (const given of files) {
    try {
      const { pipeline, file, locate } = await loadPipelineFile(given, io.cwd);
      // Planning every stage (conditions aside) catches what only the farm's settings reject,
      // such as runner: lambda with more disk than the Lambda runner's /tmp.
      const unconditional = { ...pipeline, stages: pipeline.stages.map((s) => ({ ...s, if: undefined })) };
      const plan = planPipeline(unconditional, { event: 'push', branch: 'main' }, config, { prices, file, locate });
      const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
      io.stdout.write(`${file} is valid: ${count(pipeline.stages.length, 'stage')} in ${count(plan.waves.length, 'wave')}\n`);
    } catch (error) {
      // One file's errors do not hide the next file's.
      if (!(error instanceof PipelineInvalid || error instanceof UserError) || files.length === 1) throw error;
      io.stderr.write(`${error.message}\n`);
      invalid += 1;
    }
  }
  return invalid === 0 ? 0 : 1;
}
