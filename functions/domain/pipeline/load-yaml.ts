/**
 * Reading YAML safely: the pipeline file is parsed into a document only after hostile
 * input is refused, and handed on as a YamlReader that keeps every value's position.
 */
import { LineCounter, parseDocument, visit, type Document } from 'yaml';
import type { PipelineIssue } from '../errors.js';
import { FieldSites } from './field-sites.js';
import { MAX_ALIAS_COUNT, MAX_FILE_BYTES, MAX_NESTING_DEPTH } from './limits.js';
import { nestingDepthExceeded } from './nesting-depth.js';
import { YamlReader } from './yaml-reader.js';

/** Past this many, more syntax errors are usually echoes of the first ones. */
const MAX_SYNTAX_ISSUES = 20;

export type LoadResult = { ok: true; reader: YamlReader } | { ok: false; issues: PipelineIssue[] };

/**
 * Parses `text` into a document, refusing hostile input before it can cost
 * memory or time: files over 1 MiB, collections nested deeper than 64 (flow or block),
 * and alias expansion (billion laughs) beyond yaml's `maxAliasCount`.
 */
export function loadYaml(text: string, file: string): LoadResult {
  const fail = (line: number, column: number, message: string): LoadResult => ({
    ok: false,
    issues: [{ file, line, column, path: '', message }],
  });

  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_FILE_BYTES) {
    return fail(1, 1, `the file is ${bytes} bytes; a pipeline file may be at most ${MAX_FILE_BYTES} bytes (1 MiB)`);
  }

  const lineCounter = new LineCounter();
  const tooDeep = nestingDepthExceeded(text, MAX_NESTING_DEPTH);
  if (tooDeep !== undefined) {
    const pos = positionOf(text, tooDeep);
    return fail(pos.line, pos.column, `collections are nested more than ${MAX_NESTING_DEPTH} levels deep; a pipeline file needs far fewer`);
  }

  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  const problems = [...doc.errors, ...doc.warnings];
  if (problems.length > 0) {
    const issues: PipelineIssue[] = problems.slice(0, MAX_SYNTAX_ISSUES).map((problem) => {
      const pos = lineCounter.linePos(problem.pos[0]);
      // yaml catches its own stack overflow and reports it under this code (nesting is bounded above, so only as a last resort).
      const message =
        problem.code === 'RESOURCE_EXHAUSTION'
          ? 'the document is nested too deeply to read; a pipeline file needs only a few levels'
          : `YAML: ${firstLine(problem.message)}`;
      return { file, line: pos.line, column: pos.col, path: '', message };
    });
    if (problems.length > MAX_SYNTAX_ISSUES) {
      const last = issues[issues.length - 1];
      issues.push({ ...last, message: `... and ${problems.length - MAX_SYNTAX_ISSUES} more YAML errors; fix the first ones and validate again` });
    }
    return { ok: false, issues };
  }

  try {
    doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (error) {
    if (error instanceof ReferenceError) {
      const first = firstAliasOffset(doc);
      const pos = first === undefined ? { line: 1, col: 1 } : lineCounter.linePos(first);
      return fail(
        pos.line,
        pos.col,
        `aliases expand into too many nodes (more than ${MAX_ALIAS_COUNT}); ` +
          'the farm refuses alias expansion attacks ("billion laughs"); write the values out or use "defaults"',
      );
    }
    throw error;
  }
  return { ok: true, reader: new YamlReader(doc, lineCounter, new FieldSites(file)) };
}

function firstLine(message: string): string {
  return message.split('\n')[0].replace(/:$/, '');
}

function positionOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

function firstAliasOffset(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      found = node.range?.[0];
      return visit.BREAK;
    },
  });
  return found;
}
