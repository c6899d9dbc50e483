import type { PipelineIssue, SourceLocation } from '../errors.js';

/**
 * Where a field of the normalised pipeline was written. Parse records one site
 * per field it reads, keyed by the field's path in the normalised pipeline
 * (`stages.test.resources.memory`); a stage field inherited from `defaults`
 * points at the `defaults` line, so an issue names the line the user must edit.
 */
export interface FieldSite {
  /** Dotted path as written in the file (`defaults.resources.memory` for an inherited field). */
  path: string;
  line: number;
  column: number;
  /** The value as written (a string or a number), for messages that quote it. */
  value?: unknown;
}

export class FieldSites {
  readonly #sites = new Map<string, FieldSite>();

  constructor(readonly file: string) {}

  set(key: string, site: FieldSite): void {
    this.#sites.set(key, site);
  }

  get(key: string): FieldSite | undefined {
    return this.#sites.get(key);
  }

  /** The site of `key`, or of its nearest recorded parent, or the file's start. */
  nearest(key: string): FieldSite {
    const own = this.#sites.get(key);
    if (own) return own;
    let current = key;
    for (;;) {
      const site = this.#sites.get(current);
      if (site) return { ...site, path: key };
      const parent = parentPath(current);
      if (parent === undefined) return { path: key, line: 1, column: 1 };
      current = parent;
    }
  }

  /** Where the field (or its nearest recorded parent) is written. */
  locate(key: string): SourceLocation {
    const { line, column } = this.nearest(key);
    return { file: this.file, line, column };
  }

  /** An issue at the field's site; its path is where the user wrote the field. */
  issue(key: string, message: string): PipelineIssue {
    const site = this.#sites.get(key) ?? this.nearest(key);
    return { file: this.file, line: site.line, column: site.column, path: site.path, message };
  }
}

/** `stages.a.needs[0]` -> `stages.a.needs` -> `stages.a` -> `stages` -> undefined. */
export function parentPath(path: string): string | undefined {
  const cut = Math.max(path.lastIndexOf('.'), path.lastIndexOf('['));
  return cut > 0 ? path.slice(0, cut) : undefined;
}

/** Quotes strings, leaves numbers bare: `"200GB"`, `200000`. */
export function showValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
