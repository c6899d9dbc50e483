/**
 * How many stages of a wave the local farm runs at once: `--stage-concurrency N`, else
 * BUILDFARM_STAGE_CONCURRENCY, else the machine's cores (os.availableParallelism()). On AWS the
 * same number is the template's MaxStageConcurrency parameter, which the state machine's
 * `Run stages` Map takes as its MaxConcurrency
 * (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-inline.html#map-state-inline-additional-fields).
 */
import { availableParallelism } from 'node:os';
import { UserError } from '../domain/errors.js';

/** The template's MaxStageConcurrency bounds (template.yaml: MinValue 1, MaxValue 40). */
export const STAGE_CONCURRENCY_MIN = 1;
export const STAGE_CONCURRENCY_MAX = 40;

export const STAGE_CONCURRENCY_OPTION = { 'stage-concurrency': { type: 'string' } } as const;

export const STAGE_CONCURRENCY_HELP = `  --stage-concurrency N        most stages of a wave running at once (default: this machine's cores, ${defaultStageConcurrency()};
                               $BUILDFARM_STAGE_CONCURRENCY; on AWS: the template's MaxStageConcurrency)`;

/** The cores Node may use, within the template's bounds. */
export function defaultStageConcurrency(cores = availableParallelism()): number {
  return Math.min(STAGE_CONCURRENCY_MAX, Math.max(STAGE_CONCURRENCY_MIN, cores));
}

export function stageConcurrency(flags: { 'stage-concurrency'?: string }, env: NodeJS.ProcessEnv, cores?: number): number {
  const fromFlag = flags['stage-concurrency'];
  const text = fromFlag ?? env.BUILDFARM_STAGE_CONCURRENCY;
  if (text === undefined || text === '') return defaultStageConcurrency(cores);
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < STAGE_CONCURRENCY_MIN || value > STAGE_CONCURRENCY_MAX) {
    const where = fromFlag !== undefined ? '--stage-concurrency' : 'BUILDFARM_STAGE_CONCURRENCY';
    throw new UserError(`${where}: "${text}" is not a stage concurrency; allowed: a whole number from ${STAGE_CONCURRENCY_MIN} to ${STAGE_CONCURRENCY_MAX} (the template's MaxStageConcurrency bounds)`);
  }
  return value;
}
