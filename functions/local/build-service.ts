/**
 * What the dashboard server reads: builds, their stages, logs and artifacts.
 * LocalFarm implements it; the server depends on this interface only.
 */
import type { Readable } from 'node:stream';
import type { ObjectRead, RangeRequest } from '../ports/artifact-store.js';
import type { BusMessage } from '../adapters/local/local-bus.js';
import type { BuildRequest } from '../domain/build-request.js';
import type { Plan } from '../domain/plan/types.js';
import type { BuildReport } from '../domain/report/types.js';
import type { BuildSummary, StageProgress } from './build-record.js';

/** `GET /api/builds/:id`. */
export interface BuildDetail extends BuildSummary {
  finishedAt: string | null;
  request: BuildRequest;
  plan: Plan | null;
  /** Every planned stage with its live state (after the run: its report's figures). */
  stages: StageProgress[];
  /** The full BuildReport once the build has one. */
  report: BuildReport | null;
  error: { name: string; message: string } | null;
  /** The BuildReports message as the report step published it. */
  reportMessage: BusMessage | null;
}

/** A build changed (queued, started, planned, a stage moved, finished). */
export type BuildListener = (summary: BuildSummary) => void;

export interface BuildService {
  list(): BuildSummary[];
  get(id: string): BuildDetail | undefined;
  /**
   * A stage's log so far (live while it runs), or the requested range of it, streamed;
   * undefined when there is none, 'unsatisfiable' when the range starts past its end.
   */
  log(id: string, stage: string, range?: RangeRequest): Promise<ObjectRead | 'unsatisfiable' | undefined>;
  /** An artifact a stage published, by its workspace path. */
  artifact(id: string, stage: string, path: string): Promise<Readable | undefined>;
  onChange(listener: BuildListener): () => void;
}
