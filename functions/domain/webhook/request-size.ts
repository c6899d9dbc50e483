/**
 * How big a build request may be, whatever the delivery brought. The request travels in the SNS
 * message (256 KiB), in the execution input and in every state that carries the execution state
 * (256 KiB, 262,144 bytes, per state input or output, `States.DataLimitExceeded` is not
 * catchable: https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions).
 * The Report state carries it beside the plan's wave list and a caught error's `Cause` (up to
 * 32,768 characters), so the request keeps to a quarter of the limit. Sizes are UTF-8 bytes of
 * the JSON, as the limits count them.
 */
import type { BuildRequest } from '../build-request.js';
import { MalformedPayload } from './errors.js';

export const MAX_BUILD_REQUEST_BYTES = 64 * 1024;
/** The changed-file list's share: past it the list is dropped (unknown), so `paths` filters build rather than skip. */
export const MAX_CHANGED_FILES_BYTES = 48 * 1024;
/** The head commit message (for `[skip ci]` and display). */
export const MAX_MESSAGE_BYTES = 4 * 1024;

const encoder = new TextEncoder();

export function jsonBytes(value: unknown): number {
  return encoder.encode(JSON.stringify(value)).length;
}

/** The longest prefix of `text`, whole code points, whose JSON string (quotes aside) fits `budget` bytes. */
export function truncateToJsonBytes(text: string, budget: number): string {
  const fits = (candidate: string) => jsonBytes(candidate) - 2 <= budget;
  if (fits(text)) return text;
  // Every code unit takes at least one byte, so nothing past `budget` of them can fit.
  const points = Array.from(text.slice(0, budget));
  let low = 0;
  let high = points.length;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(points.slice(0, mid).join(''))) low = mid;
    else high = mid - 1;
  }
  return points.slice(0, low).join('');
}

/**
 * The request within its budget: an oversized changed-file list dropped, then the message cut.
 * What is left (names, refs, SHAs) is small for any delivery GitHub sends; one that is not is
 * refused by name rather than failing the execution later.
 */
export function boundBuildRequest(request: BuildRequest): BuildRequest {
  let bounded: BuildRequest = { ...request, message: truncateToJsonBytes(request.message, MAX_MESSAGE_BYTES) };
  if (bounded.changedFiles !== undefined && jsonBytes(bounded.changedFiles) > MAX_CHANGED_FILES_BYTES) {
    const { changedFiles: _dropped, ...rest } = bounded;
    bounded = rest;
  }
  const size = jsonBytes(bounded);
  if (size > MAX_BUILD_REQUEST_BYTES) {
    throw new MalformedPayload(`the build request would be ${size} bytes, above the ${MAX_BUILD_REQUEST_BYTES}-byte limit (repository, ref, branch or sender names are too long)`);
  }
  return bounded;
}
