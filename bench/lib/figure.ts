/**
 * One line of the results table. Every figure says how it was measured and, where a
 * comparison makes sense, against which baseline of the same run, with the ratio.
 */
export interface Figure {
  /** The section it belongs to: webhook, bundle, init, transitions, upload, overhead, plan. */
  section: string;
  name: string;
  value: number;
  unit: string;
  /** How it was measured, in a sentence. */
  how: string;
  baseline?: { name: string; value: number; unit: string };
  /** value / baseline.value. */
  ratio?: number;
  goal?: Goal;
}

export interface Goal {
  /** Human wording, e.g. "< 5 ms". */
  text: string;
  met: boolean;
}

export function below(value: number, limit: number, text: string): Goal {
  return { text, met: value < limit };
}

export function atLeast(value: number, limit: number, text: string): Goal {
  return { text, met: value >= limit };
}

/** What a section hands back: its figures and whatever raw numbers explain them. */
export interface SectionResult {
  figures: Figure[];
  details: Record<string, unknown>;
  /** Why (part of) the section could not be measured, e.g. a baseline tool missing. */
  notes?: string[];
}
