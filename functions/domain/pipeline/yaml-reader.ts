/**
 * Reading YAML with positions (load-yaml.ts parses it safely first). The document is
 * walked as nodes (never as a plain JS object) so every value keeps its line and column.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLMap } from 'yaml';
import type { PipelineIssue } from '../errors.js';
import { closest } from './closest-key.js';
import type { FieldSites } from './field-sites.js';
import { MAX_ALIAS_COUNT } from './limits.js';

/** A value in the document with the path it has and the node to point at. */
export interface Field {
  /** Path of this value, e.g. `stages.test.timeout`. */
  path: string;
  /** The value node, aliases resolved; null when nothing is written. */
  value: Node | null;
  /** Where to point: the value, or its key when the value is empty. */
  at: Node | null;
}

export interface MapEntry extends Field {
  key: string;
  keyNode: Node;
}

export class YamlReader {
  readonly issues: PipelineIssue[] = [];
  /** Keys suggested for typos, by the mapping's path: a typo already explains a missing key. */
  readonly #suggested = new Map<string, Set<string>>();

  constructor(
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
    readonly sites: FieldSites,
  ) {}

  /** The whole document as a field with an empty path. */
  get root(): Field {
    const value = this.resolve(this.doc.contents);
    return { path: '', value, at: value };
  }

  resolve(node: unknown): Node | null {
    let current = node;
    // An alias may point at another alias; the loader has bounded expansion already.
    for (let hops = 0; isAlias(current) && hops < MAX_ALIAS_COUNT; hops++) {
      current = current.resolve(this.doc);
    }
    if (current === undefined || current === null || isAlias(current)) return null;
    if (isScalar(current) && current.value === null) return null;
    return current as Node;
  }

  position(node: Node | null | undefined): { line: number; column: number } {
    const offset = node?.range?.[0];
    if (offset === undefined) return { line: 1, column: 1 };
    const pos = this.lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  }

  report(field: Pick<Field, 'path' | 'at'>, message: string): void {
    const { line, column } = this.position(field.at);
    this.issues.push({ file: this.sites.file, line, column, path: field.path, message });
  }

  /**
   * Records where a field was written, for lint's messages. `key` is its path
   * in the normalised pipeline; the site keeps the path as written.
   */
  record(key: string, field: Field, value?: unknown): void {
    const { line, column } = this.position(field.at);
    this.sites.set(key, { path: field.path, line, column, value });
  }

  /**
   * The entries of a mapping, in file order. Reports a value that is not a
   * mapping, non-scalar keys, duplicate keys (with the first one's line), and
   * keys outside `allowed` (suggesting the closest allowed key). Only good
   * entries are returned; a duplicate's later copy is dropped.
   */
  entries(field: Field, allowed: readonly string[] | undefined, what: string, keyLabel = 'key'): MapEntry[] {
    const node = field.value;
    if (node === null) return [];
    if (!isMap(node)) {
      this.report(field, `expected ${what}, got ${kindOf(node)}`);
      return [];
    }
    const seen = new Map<string, Node>();
    const result: MapEntry[] = [];
    for (const pair of (node as YAMLMap<unknown, unknown>).items) {
      const keyNode = this.resolve(pair.key);
      if (keyNode === null || !isScalar(keyNode)) {
        this.report({ path: field.path, at: (pair.key as Node | null) ?? node }, `a ${keyLabel} must be a plain name, got ${kindOf(keyNode)}`);
        continue;
      }
      const key = scalarText(keyNode);
      const path = field.path ? `${field.path}.${key}` : key;
      const first = seen.get(key);
      if (first) {
        this.report(
          { path, at: keyNode },
          `duplicate ${keyLabel} ${JSON.stringify(key)} (first defined at line ${this.position(first).line}); each ${keyLabel} may appear only once`,
        );
        continue;
      }
      seen.set(key, keyNode);
      if (allowed && !allowed.includes(key)) {
        const guess = closest(key, allowed);
        const hint = guess ? ` (did you mean ${JSON.stringify(guess)}?)` : '';
        if (guess) this.#suggested.set(field.path, (this.#suggested.get(field.path) ?? new Set()).add(guess));
        this.report({ path, at: keyNode }, `unknown key ${JSON.stringify(key)}${hint}; allowed keys: ${allowed.join(', ')}`);
        continue;
      }
      const value = this.resolve(pair.value);
      result.push({ key, path, value, at: value ?? keyNode, keyNode });
    }
    return result;
  }

  /** Whether a typo in the mapping at `path` was already pointed at `key`. */
  wasSuggested(path: string, key: string): boolean {
    return this.#suggested.get(path)?.has(key) ?? false;
  }

  /** A string, or a number/boolean written where a string is expected (kept as written). */
  text(field: Field, what: string): string | undefined {
    const node = field.value;
    if (node !== null && isScalar(node) && ['string', 'number', 'boolean'].includes(typeof node.value)) {
      return scalarText(node);
    }
    this.report(field, `expected ${what}, got ${kindOf(node)}`);
    return undefined;
  }

  /** A non-empty string. */
  string(field: Field, what: string): string | undefined {
    const node = field.value;
    if (node !== null && isScalar(node) && typeof node.value === 'string' && node.value.trim() !== '') return node.value;
    this.report(field, `expected ${what}, got ${kindOf(node)}`);
    return undefined;
  }

  boolean(field: Field): boolean | undefined {
    const node = field.value;
    if (node !== null && isScalar(node) && typeof node.value === 'boolean') return node.value;
    this.report(field, `expected true or false, got ${kindOf(node)}`);
    return undefined;
  }

  /** One of `allowed`, written as a string. */
  choice<T extends string>(field: Field, allowed: readonly T[]): T | undefined {
    const node = field.value;
    if (node !== null && isScalar(node) && typeof node.value === 'string' && (allowed as readonly string[]).includes(node.value)) {
      return node.value as T;
    }
    this.report(field, `expected one of ${allowed.join(', ')}, got ${kindOf(node)}`);
    return undefined;
  }

  /** The scalar's value as YAML typed it (string, number, boolean), for unit parsers. */
  scalar(field: Field): unknown {
    const node = field.value;
    if (node === null) return null;
    if (isScalar(node)) return node.value;
    return isSeq(node) ? [] : {};
  }

  /** The items of a list as fields (`path[0]`, `path[1]`, ...). */
  items(field: Field): Field[] | undefined {
    const node = field.value;
    if (node === null || !isSeq(node)) return undefined;
    return node.items.map((raw, index) => {
      const value = this.resolve(raw);
      return { path: `${field.path}[${index}]`, value, at: value ?? (raw as Node | null) ?? node };
    });
  }

  /**
   * A list of strings, also accepting a single string for a one-item list.
   * Records a site for every item under `key` (`key[0]`, `key[1]`, ...).
   */
  stringList(field: Field, what: string, key = field.path): string[] | undefined {
    const node = field.value;
    if (node !== null && isScalar(node)) {
      const one = this.text(field, what);
      if (one === undefined) return undefined;
      this.record(`${key}[0]`, field, one);
      return [one];
    }
    const items = this.items(field);
    if (items === undefined) {
      this.report(field, `expected ${what} or a list of them, got ${kindOf(node)}`);
      return undefined;
    }
    const values: string[] = [];
    items.forEach((item, index) => {
      const value = this.text(item, what);
      if (value === undefined) return;
      this.record(`${key}[${index}]`, item, value);
      values.push(value);
    });
    return values;
  }

  /** A mapping (not a scalar, a list or nothing). */
  isMapping(field: Field): boolean {
    return field.value !== null && isMap(field.value);
  }

  isList(node: Node | null): boolean {
    return node !== null && isSeq(node);
  }
}

/** Describes what the user wrote, for `expected X, got Y`. */
export function kindOf(node: Node | null | undefined): string {
  if (node === null || node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    if (node.value === null) return 'nothing';
    if (typeof node.value === 'string') return JSON.stringify(node.value);
    return node.source ?? String(node.value);
  }
  return 'an unsupported value';
}

/** Numbers and booleans as written (`1.10` stays `1.10`, `true` stays `true`). */
function scalarText(node: Node): string {
  if (!isScalar(node)) return '';
  if (typeof node.value === 'string') return node.value;
  return typeof node.source === 'string' && node.source !== '' ? node.source : String(node.value);
}
