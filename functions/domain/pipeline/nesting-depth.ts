/**
 * How deep a YAML text nests, found from the lexer's tokens before anything recursive runs.
 *
 * yaml's composer recurses once per level of nesting: a 1 MiB file of `- - - ... x` takes it
 * seconds to reach its own stack overflow, and whether it overflows at all depends on how warm
 * the process's code is (a long-running `serve` compiles smaller frames than a fresh CLI). So the
 * depth is bounded here, the same way in every process, at `MAX_NESTING_DEPTH`, far above what a
 * pipeline file needs (about six levels) and far below what the composer can take.
 *
 * The lexer is linear and keeps no stack. Flow collections (`[`, `{`) are counted exactly. Block
 * nesting is counted as the indicators of each line (`-` and `?` up to its first `:`, and that `:`;
 * YAML allows no block collection after a key on the same line, so later ones nest nothing and
 * are yaml's syntax errors) plus the lines above it whose indentation is still open: never less
 * than half the real depth, so the bound holds with room.
 */
import { CST, Lexer } from 'yaml';

/** The lexer's control tokens: not part of the source (they take no offset). */
const CONTROL = new Set(['\x02', '\x18', '\x1f']);
const SCALAR = '\x1f';
const BLOCK_INDICATORS = new Set(['seq-item-ind', 'explicit-key-ind', 'map-value-ind']);

/** The offset of the first token that nests deeper than `max` levels, if any. */
export function nestingDepthExceeded(text: string, max: number): number | undefined {
  let offset = 0;
  let flowDepth = 0;
  // The block structure: indentation of each line whose indicators are still open.
  const open: number[] = [];
  let lineStart = true;
  let lineIndent = 0;
  let lineBase: number | undefined;
  let lineIndicators = 0;
  let lineKeyed = false;
  let scalarNext = false;
  const newLine = () => {
    lineStart = true;
    lineIndent = 0;
    lineBase = undefined;
    lineIndicators = 0;
    lineKeyed = false;
  };
  for (const token of new Lexer().lex(text)) {
    if (CONTROL.has(token)) {
      if (token === SCALAR) scalarNext = true;
      continue;
    }
    const at = offset;
    offset += token.length;
    if (scalarNext) {
      // A scalar's text: a block scalar or a multi-line plain scalar may end a line.
      scalarNext = false;
      lineStart = false;
      if (token.endsWith('\n')) newLine();
      continue;
    }
    const type = CST.tokenType(token);
    if (type === 'newline') {
      newLine();
      continue;
    }
    if (type === 'doc-start') open.length = 0;
    if (lineStart) {
      lineStart = false;
      if (type === 'space') {
        lineIndent = token.length;
        continue;
      }
    }
    if (type === 'flow-map-start' || type === 'flow-seq-start') {
      flowDepth++;
      if (flowDepth > max) return at;
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') {
      flowDepth = Math.max(0, flowDepth - 1);
    } else if (flowDepth === 0 && !lineKeyed && type !== null && BLOCK_INDICATORS.has(type)) {
      if (type === 'map-value-ind') lineKeyed = true;
      if (lineBase === undefined) {
        while (open.length > 0 && open[open.length - 1]! >= lineIndent) open.pop();
        lineBase = open.length;
        open.push(lineIndent);
      }
      lineIndicators++;
      if (lineBase + lineIndicators > max) return at;
    }
  }
  return undefined;
}
