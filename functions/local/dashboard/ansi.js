// Terminal colours in stage logs (mocha, uvu, npm): SGR sequences (ESC [ ... m) become spans
// with classes from a fixed list; every other escape or control sequence (cursor moves, erase
// line, window titles, hyperlinks) is dropped. Text is only ever set as text: nothing from a log
// reaches the page as HTML. ECMA-48 (https://ecma-international.org/publications-and-standards/standards/ecma-48/)
// and xterm's control sequences (https://invisible-island.net/xterm/ctlseqs/ctlseqs.html).

// CSI: ESC [ params intermediates final; OSC: ESC ] ... BEL or ESC \; other two-byte escapes; a lone ESC.
const ESCAPES = /\x1b\[([0-?]*)([ -/]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[PX^_][^\x1b]*(?:\x1b\\)?|\x1b[ -/]*[0-~]|\x1b|\x9b[0-?]*[ -/]*[@-~]/g;
// C0 controls other than tab, line feed and carriage return, and DEL.
const CONTROLS = /[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;

/** The SGR state: which classes the text after it gets. */
function emptyStyle() {
  return { bold: false, dim: false, italic: false, underline: false, inverse: false, fg: null, bg: null };
}

function classesOf(style) {
  const classes = [];
  if (style.bold) classes.push('ansi-bold');
  if (style.dim) classes.push('ansi-dim');
  if (style.italic) classes.push('ansi-italic');
  if (style.underline) classes.push('ansi-underline');
  if (style.inverse) classes.push('ansi-inverse');
  if (style.fg !== null) classes.push(`ansi-fg-${style.fg}`);
  if (style.bg !== null) classes.push(`ansi-bg-${style.bg}`);
  return classes;
}

/** Applies one SGR parameter list (`1;31`, `38;5;196`, empty = reset) to `style`. */
function applySgr(style, parameters) {
  const codes = parameters === '' ? [0] : parameters.split(/[;:]/).map((p) => (p === '' ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i += 1) {
    const code = codes[i];
    if (code === 0) Object.assign(style, emptyStyle());
    else if (code === 1) style.bold = true;
    else if (code === 2) style.dim = true;
    else if (code === 3) style.italic = true;
    else if (code === 4) style.underline = true;
    else if (code === 7) style.inverse = true;
    else if (code === 22) style.bold = style.dim = false;
    else if (code === 23) style.italic = false;
    else if (code === 24) style.underline = false;
    else if (code === 27) style.inverse = false;
    else if (code >= 30 && code <= 37) style.fg = code - 30;
    else if (code === 39) style.fg = null;
    else if (code >= 40 && code <= 47) style.bg = code - 40;
    else if (code === 49) style.bg = null;
    else if (code >= 90 && code <= 97) style.fg = code - 90 + 8;
    else if (code >= 100 && code <= 107) style.bg = code - 100 + 8;
    else if (code === 38 || code === 48) {
      // 256 colours (5;n): the first 16 map to the palette, the rest are left uncoloured; true colour (2;r;g;b) too.
      const key = code === 38 ? 'fg' : 'bg';
      const mode = codes[i + 1];
      if (mode === 5) {
        const n = codes[i + 2];
        style[key] = Number.isInteger(n) && n >= 0 && n < 16 ? n : null;
        i += 2;
      } else if (mode === 2) {
        style[key] = null;
        i += 4;
      }
    }
  }
}

/** The log as runs of text with their classes; escapes and stray controls removed. */
export function ansiSegments(text) {
  const segments = [];
  const style = emptyStyle();
  let last = 0;
  const push = (piece) => {
    const clean = piece.replace(CONTROLS, '');
    if (clean === '') return;
    const classes = classesOf(style);
    const previous = segments.at(-1);
    if (previous && previous.classes.join(' ') === classes.join(' ')) previous.text += clean;
    else segments.push({ text: clean, classes });
  };
  for (const match of text.matchAll(ESCAPES)) {
    push(text.slice(last, match.index));
    last = match.index + match[0].length;
    // Only a plain CSI ... m (no private marker, no intermediates) is SGR.
    if (match[3] === 'm' && match[2] === '' && /^[0-9;:]*$/.test(match[1])) applySgr(style, match[1]);
  }
  push(text.slice(last));
  return segments;
}

/** Replaces `target`'s content with the log, coloured. */
export function renderAnsi(target, text) {
  const fragment = document.createDocumentFragment();
  for (const segment of ansiSegments(text)) {
    if (segment.classes.length === 0) fragment.append(document.createTextNode(segment.text));
    else {
      const span = document.createElement('span');
      span.className = segment.classes.join(' ');
      span.textContent = segment.text;
      fragment.append(span);
    }
  }
  target.replaceChildren(fragment);
}
