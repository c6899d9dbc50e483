/**
 * Replaces secret values with `***` in a stream of text that arrives in
 * arbitrary chunks. A secret split across two writes is still caught: the
 * tail of each chunk that could be the start of a secret is held back until
 * the next chunk (or the end) decides.
 */
import { StringDecoder } from 'node:string_decoder';

export const MASK = '***';

export class SecretMasker {
  private readonly secrets: string[];
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  constructor(values: Iterable<string>) {
    const unique = new Set<string>();
    for (const value of values) {
      if (value.length === 0) continue;
      unique.add(value);
      // Multi-line secrets (keys, certificates) are also masked line by line, as tools often print them that way.
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= 4) unique.add(line);
    }
    // Longest first, so a secret containing another is masked whole.
    this.secrets = [...unique].sort((a, b) => b.length - a.length);
  }

  /** Masks what can be decided now; keeps back a possible secret prefix. */
  push(chunk: Buffer | string): string {
    const text = this.pending + (typeof chunk === 'string' ? chunk : this.decoder.write(chunk));
    if (this.secrets.length === 0) {
      this.pending = '';
      return text;
    }
    const masked = this.mask(text);
    const hold = this.possibleSecretStart(masked);
    this.pending = masked.slice(masked.length - hold);
    return masked.slice(0, masked.length - hold);
  }

  /** Everything still held back, masked. */
  flush(): string {
    const text = this.pending + this.decoder.end();
    this.pending = '';
    return this.mask(text);
  }

  mask(text: string): string {
    let result = text;
    for (const secret of this.secrets) if (result.includes(secret)) result = result.split(secret).join(MASK);
    return result;
  }

  /** Length of the longest suffix of `text` that is a proper prefix of some secret. */
  private possibleSecretStart(text: string): number {
    let longest = 0;
    for (const secret of this.secrets) {
      const max = Math.min(secret.length - 1, text.length);
      for (let length = max; length > longest; length -= 1) {
        if (text.endsWith(secret.slice(0, length))) {
          longest = length;
          break;
        }
      }
    }
    return longest;
  }
}
