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

  /** Masks what can be decided now; keeps back a possible secret prefix. Without secrets, `chunk` itself. */
  push(chunk: Buffer | string): Buffer {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.secretBytes.length === 0) return bytes;
    const data = this.pending.length === 0 ? bytes : Buffer.concat([this.pending, bytes]);
    const masked = this.maskBytes(data);
    const hold = this.possibleSecretStart(masked);
    // A copy: the few bytes held back must not keep a whole chunk alive.
    this.pending = hold === 0 ? NOTHING : Buffer.from(masked.subarray(masked.length - hold));
    return masked.subarray(0, masked.length - hold);
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
    let result = data;
    for (const secret of this.secretBytes) {
      let found = result.indexOf(secret);
      if (found === -1) continue;
      const parts: Buffer[] = [];
      let from = 0;
      while (found !== -1) {
        parts.push(result.subarray(from, found), MASK_BYTES);
        from = found + secret.length;
        found = result.indexOf(secret, from);
      }
      parts.push(result.subarray(from));
      result = Buffer.concat(parts);
    }
    return result;
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
