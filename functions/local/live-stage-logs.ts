/**
 * The output of running stages, kept in memory for the dashboard's live view until the
 * stage's log is in the store.
 */
import { Readable } from 'node:stream';
import type { ObjectRead, RangeRequest } from '../ports/artifact-store.js';
import { resolveRange } from './byte-range.js';

/** A running stage's log kept in memory for the live view; older output is dropped from the front. */
const LIVE_LOG_LIMIT = 1024 * 1024;

export class LiveStageLogs {
  private readonly logs = new Map<string, string>();

  /** The stage started: its live log begins empty. */
  begin(buildId: string, stage: string): void {
    this.logs.set(logSlot(buildId, stage), '');
  }

  append(buildId: string, stage: string, chunk: string): void {
    const slot = logSlot(buildId, stage);
    const text = (this.logs.get(slot) ?? '') + chunk;
    this.logs.set(slot, text.length > LIVE_LOG_LIMIT ? text.slice(text.length - LIVE_LOG_LIMIT) : text);
  }

  /** The stage finished: its log is read from the store from now on. */
  end(buildId: string, stage: string): void {
    this.logs.delete(logSlot(buildId, stage));
  }

  /** The build is over: whatever its stages left is dropped. */
  endBuild(buildId: string): void {
    for (const key of [...this.logs.keys()]) if (key.startsWith(`${buildId}/`)) this.logs.delete(key);
  }

  /** The live log of a running stage, as the store would serve it; undefined when the stage is not running. */
  read(buildId: string, stage: string, range?: RangeRequest): ObjectRead | 'unsatisfiable' | undefined {
    const live = this.logs.get(logSlot(buildId, stage));
    return live === undefined ? undefined : readBuffer(Buffer.from(live), range);
  }
}

/** A log held in memory (the live view), as the store would serve it. */
export function readBuffer(bytes: Buffer, range: RangeRequest | undefined): ObjectRead | 'unsatisfiable' {
  if (range === undefined) return { body: Readable.from([bytes]), length: bytes.length, total: bytes.length };
  const resolved = resolveRange(range, bytes.length);
  if (resolved === undefined) return 'unsatisfiable';
  const part = bytes.subarray(resolved.start, resolved.end + 1);
  return { body: Readable.from([part]), length: part.length, total: bytes.length, range: resolved };
}

function logSlot(id: string, stage: string): string {
  return `${id}/${stage}`;
}
