/**
 * HTTP `Range: bytes=...` for the local farm's log endpoint: one range only (what
 * browsers, curl and `tail`-like clients send), parsed here and resolved against an
 * object's size. Several ranges (`bytes=0-1,5-9`) are answered whole, which RFC 9110
 * allows (a server MAY ignore Range).
 * https://www.rfc-editor.org/rfc/rfc9110#name-range
 */
import type { RangeRequest } from '../ports/artifact-store.js';

/** The Range header as a request, or undefined when absent or not a single bytes range. */
export function parseRangeHeader(header: string | undefined): RangeRequest | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (match === null) return undefined;
  const [, first, last] = match;
  if (first === '' && last === '') return undefined;
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  if (last === '') return { start };
  const end = Number(last);
  return end < start ? undefined : { start, end };
}

/** The inclusive byte positions a range selects in an object of `total` bytes, or undefined when none. */
export function resolveRange(range: RangeRequest, total: number): { start: number; end: number } | undefined {
  if ('suffix' in range) {
    if (range.suffix === 0 || total === 0) return undefined;
    return { start: Math.max(0, total - range.suffix), end: total - 1 };
  }
  if (range.start >= total) return undefined;
  return { start: range.start, end: Math.min(range.end ?? total - 1, total - 1) };
}
