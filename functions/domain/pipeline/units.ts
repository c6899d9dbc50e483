/**
 * Sizes and durations as a user writes them in `.buildfarm.yml`.
 *
 * Sizes are MiB. `MB` and `GB` are accepted and mean the same binary units as
 * `MiB` and `GiB`: that is how AWS uses them for Lambda memory and /tmp
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html,
 * "128 MB to 10,240 MB" in 1 MB steps, where 10,240 MB is 10 GiB) and for
 * Fargate task memory (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html,
 * where "2 GB" is 2048 MiB). A user copying a number from those pages gets
 * exactly the size AWS means.
 */

export type UnitResult = { ok: true; value: number } | { ok: false; message: string };

const MIB_PER_UNIT: Record<string, number> = { mib: 1, mb: 1, gib: 1024, gb: 1024 };
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*(MiB|GiB|MB|GB)?$/i;
const DURATION_PATTERN = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export const SIZE_HELP =
  'a size such as 512MiB, 2GiB, 2GB or 2048MB (a plain number is MiB; MB and GB mean MiB and GiB, as AWS uses them for Lambda and Fargate)';
export const DURATION_HELP = 'a duration such as 90s, 10m, 2h or 1h30m (a plain number is seconds)';

/** Parses a memory or disk size into MiB, rounding a fraction of a MiB up. */
export function parseSize(input: unknown): UnitResult {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) return { ok: false, message: `expected ${SIZE_HELP}, got ${input}` };
    return { ok: true, value: Math.ceil(input) };
  }
  if (typeof input !== 'string') return { ok: false, message: `expected ${SIZE_HELP}, got ${describe(input)}` };
  const match = SIZE_PATTERN.exec(input.trim());
  if (!match) return { ok: false, message: `expected ${SIZE_HELP}, got ${JSON.stringify(input)}` };
  const unit = (match[2] ?? 'mib').toLowerCase();
  return { ok: true, value: Math.ceil(Number(match[1]) * MIB_PER_UNIT[unit]) };
}

/** Parses a duration into whole seconds. */
export function parseDuration(input: unknown): UnitResult {
  if (typeof input === 'number') {
    if (!Number.isInteger(input) || input < 0) {
      return { ok: false, message: `expected ${DURATION_HELP}, got ${input} (whole seconds only)` };
    }
    return { ok: true, value: input };
  }
  if (typeof input !== 'string') return { ok: false, message: `expected ${DURATION_HELP}, got ${describe(input)}` };
  const text = input.trim();
  if (/^\d+$/.test(text)) return { ok: true, value: Number(text) };
  const match = text === '' ? null : DURATION_PATTERN.exec(text);
  if (!match) return { ok: false, message: `expected ${DURATION_HELP}, got ${JSON.stringify(input)}` };
  const [hours, minutes, seconds] = [match[1], match[2], match[3]].map((part) => Number(part ?? 0));
  return { ok: true, value: hours * 3600 + minutes * 60 + seconds };
}

/** `2 GiB`, `512 MiB`, `1.5 GiB`: for messages. */
export function formatMiB(mib: number): string {
  if (mib >= 1024) {
    const gib = mib / 1024;
    return `${Number.isInteger(gib) ? gib : Number(gib.toFixed(2))} GiB`;
  }
  return `${mib} MiB`;
}

/** `1h30m`, `15m`, `90s` -> `1m30s`: for messages. */
export function formatSeconds(seconds: number): string {
  if (seconds === 0) return '0s';
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${s ? `${s}s` : ''}`;
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return JSON.stringify(value);
}
