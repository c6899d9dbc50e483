/**
 * Text helpers for messages that have a size limit: cut on whole words and
 * whole code points, never in the middle of a number or a surrogate pair.
 */

const ELLIPSIS = '…';

/** Length in UTF-16 code units: never less than the code point count, so a limit met here is met either way. */
export function textLength(text: string): number {
  return text.length;
}

/** Newlines, tabs and control characters become single spaces (a status description is one line). */
export function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\s\u0000-\u001f\u007f]+/gu, ' ').trim();
}

/**
 * The longest prefix of `text` that ends between two words and, with an
 * ellipsis, fits in `max`; the whole text when it fits; '' when not even the
 * first word fits (so a long token such as a number is dropped, never cut).
 */
export function clipWords(text: string, max: number): string {
  if (textLength(text) <= max) return text;
  const room = max - ELLIPSIS.length;
  if (room <= 0) return '';
  let end = -1;
  for (let i = 0; i < text.length && i <= room; i++) {
    if (text[i] === ' ' && i > 0) end = i;
  }
  if (end <= 0) return '';
  return `${text.slice(0, end).trimEnd()}${ELLIPSIS}`;
}

/**
 * At most `max` code units, cut on a code point boundary, with an ellipsis
 * when cut: for free text in the JSON message (reasons, error messages).
 */
export function clipChars(text: string, max: number): string {
  if (textLength(text) <= max) return text;
  let out = '';
  for (const char of text) {
    if (out.length + char.length > max - ELLIPSIS.length) break;
    out += char;
  }
  return `${out}${ELLIPSIS}`;
}
