/**
 * The forms of a secret the masker looks for besides the value itself: what tools print when
 * they print a secret without meaning to. A secret in an HTTP Basic header or a Kubernetes
 * manifest is base64; in a URL, percent-encoded; in a JSON document or a log line that
 * serialises an object, JSON-escaped. GitHub Actions' runner masks the same derived forms (its
 * ValueEncoders: base64 at three byte offsets, JSON, URI data; and XML and shell quoting, which
 * we leave out), not only the exact value. Not hex: every form is one more scan of every chunk
 * of output, and hex's 0-9a-f alphabet matches ordinary output often (5 secrets on this VM:
 * 105 MiB/s with these forms, 56 MiB/s with hex as well; see docs/runner.md for the figures).
 * A stage that means to leak a secret it holds can always transform it some other way (reverse
 * it, split it with other output between): masking is for accidents, the sandbox and the fork
 * rule (no secrets for forks) are the boundary. See docs/security.md.
 *
 * https://github.com/actions/runner/blob/main/src/Sdk/DTLogging/Logging/ValueEncoders.cs
 */

/** Derived forms shorter than this are not masked: too likely to match ordinary output. */
const MIN_FORM_LENGTH = 8;

/** The value's derived forms that differ from it and are long enough to mask safely. */
export function secretForms(value: string): string[] {
  const bytes = Buffer.from(value);
  const forms = new Set<string>([
    ...[0, 1, 2].map((shift) => base64Core(bytes, shift)),
    encodeURIComponent(value),
    JSON.stringify(value).slice(1, -1),
  ]);
  forms.delete(value);
  return [...forms].filter((form) => form.length >= MIN_FORM_LENGTH);
}

/**
 * The base64 characters that depend only on the secret when it starts `shift` bytes before a
 * 3-byte group boundary of the encoded text, so they appear whatever precedes or follows it
 * (`user:secret` encodes the secret differently after a 4- or a 5-character user name).
 * The last character of a partial group also carries bits of the next byte: it is left out.
 */
function base64Core(bytes: Buffer, shift: number): string {
  const aligned = bytes.subarray(Math.min(shift, bytes.length));
  const encoded = aligned.toString('base64').replace(/=+$/, '');
  const partial = aligned.length % 3;
  return partial === 0 ? encoded : encoded.slice(0, -1);
}
