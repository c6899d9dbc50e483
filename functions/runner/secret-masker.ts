/**
 * Replaces secret values with `***` in a stream of output that arrives in
 * arbitrary chunks. A secret split across two writes is still caught: the
 * tail of each chunk that could be the start of a secret is held back until
 * the next chunk (or the end) decides.
 *
 * Besides each value, it masks the forms tools print a secret in (base64, URL, JSON:
 * secret-forms.ts), and each line of a multi-line value.
 *
 * It works on bytes (each secret as its UTF-8 bytes), never on decoded text:
 * a stage that prints 1 GB then costs no string per chunk and no re-encoding,
 * and a chunk with no secret in it passes through as the same Buffer (issue 11:
 * the build process's memory grew with output while it decoded every chunk).
 */
import { secretForms } from './secret-forms.js';

export const MASK = '***';

const MASK_BYTES = Buffer.from(MASK);
const NOTHING = Buffer.alloc(0);

export class SecretMasker {
  /** Longest first, so a secret containing another is masked whole. */
  private readonly secrets: string[];
  private readonly secretBytes: Buffer[];
  private pending: Buffer = NOTHING;

  constructor(values: Iterable<string>) {
    const unique = new Set<string>();
    for (const value of values) {
      if (value.length === 0) continue;
      unique.add(value);
      // Its base64, percent-encoded and JSON-escaped forms (secret-forms.ts).
      for (const form of secretForms(value)) unique.add(form);
      // Multi-line secrets (keys, certificates) are also masked line by line, as tools often print them that way.
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) unique.add(line);
    }
    this.secrets = [...unique].sort((a, b) => Buffer.byteLength(b) - Buffer.byteLength(a));
    this.secretBytes = this.secrets.map((secret) => Buffer.from(secret));
  }

  /**
   * Masks what can be decided now; keeps back, unmasked, a possible secret prefix. Without secrets, `chunk` itself.
   *
   * The prefix is looked for in the bytes as printed, not after masking: masking a secret that lies
   * inside a longer one (a password inside a database URL, both secrets) would hide the longer one's
   * start, and its rest would go out with the next chunk. And no secret found in the bytes may be cut
   * by where the held part starts: the cut moves back to its start, so it is masked whole later.
   */
  push(chunk: Buffer | string): Buffer {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.secretBytes.length === 0) return bytes;
    const data = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const ranges = this.secretRanges(data);
    let cut = data.length - this.possibleSecretStart(data);
    // Ranges are in order and never overlap: those reaching past the cut are the last ones, and the
    // first of them to start before it moves the cut back to its start (held whole, masked once complete).
    while (ranges.length > 0 && ranges[ranges.length - 1]![1] > cut) cut = Math.min(cut, ranges.pop()![0]);
    // A copy: the few bytes held back must not keep a whole chunk alive.
    this.pending = cut === data.length ? NOTHING : Buffer.from(data.subarray(cut));
    return replaceRanges(cut === data.length ? data : data.subarray(0, cut), ranges);
  }

  /** Everything still held back, masked. */
  flush(): Buffer {
    const rest = this.maskBytes(this.pending);
    this.pending = NOTHING;
    return rest;
  }

  /** The text with every secret replaced (for lines the agent writes itself, and a result's reason). */
  mask(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (result.includes(secret)) result = result.split(secret).join(MASK);
    return result;
  }

  /** `data` with every secret replaced, longest first; `data` itself when it holds none. */
  private maskBytes(data: Buffer): Buffer {
    return replaceRanges(data, this.secretRanges(data));
  }

  /**
   * Where the secrets are in `data`, as [start, end) in order, never overlapping: longest secret
   * first, each occurrence from left to right, skipping any that overlaps one already taken (as
   * replacing the longest first, then the next in what is left, would).
   */
  private secretRanges(data: Buffer): Array<[number, number]> {
    const taken: Array<[number, number]> = [];
    // The bytes taken by earlier secrets, made only when a later secret may overlap them.
    let covered: Uint8Array | undefined;
    for (const secret of this.secretBytes) {
      // Only ranges of the secrets before this one can overlap it (its own occurrences are found past each other).
      const others = taken.length;
      if (others > 0 && covered === undefined) {
        covered = new Uint8Array(data.length);
        for (const [start, end] of taken) covered.fill(1, start, end);
      }
      for (let found = data.indexOf(secret); found !== -1; ) {
        const end = found + secret.length;
        if (others > 0 && overlapsTaken(covered!, found, end)) {
          found = data.indexOf(secret, found + 1);
          continue;
        }
        covered?.fill(1, found, end);
        taken.push([found, end]);
        found = data.indexOf(secret, end);
      }
    }
    // One secret's ranges come in order; several secrets' are merged by start.
    return covered === undefined ? taken : taken.sort((a, b) => a[0] - b[0]);
  }

  /** Length of the longest suffix of `bytes` that is a proper prefix of some secret. */
  private possibleSecretStart(bytes: Buffer): number {
    let longest = 0;
    for (const secret of this.secretBytes) {
      const max = Math.min(secret.length - 1, bytes.length);
      for (let length = max; length > longest; length -= 1) {
        // A byte read first: a native compare per length cost 40 % of the masker's time on ordinary output.
        if (bytes[bytes.length - length] !== secret[0]) continue;
        if (bytes.compare(secret, 0, length, bytes.length - length, bytes.length) === 0) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}

function overlapsTaken(covered: Uint8Array, start: number, end: number): boolean {
  for (let index = start; index < end; index += 1) if (covered[index] === 1) return true;
  return false;
}

/** `data` with each range replaced by the mask; `data` itself when there is none. */
function replaceRanges(data: Buffer, ranges: ReadonlyArray<[number, number]>): Buffer {
  if (ranges.length === 0) return data;
  const parts: Buffer[] = [];
  let from = 0;
  for (const [start, end] of ranges) {
    parts.push(data.subarray(from, start), MASK_BYTES);
    from = end;
  }
  parts.push(data.subarray(from));
  return Buffer.concat(parts);
}
