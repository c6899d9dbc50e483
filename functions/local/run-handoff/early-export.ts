/**
 * A handed-over build's plain files, copied while it runs: what is there once it is planned (the
 * snapshot, the plan), each stage's folder once the stage has finished, everything new once its
 * report is published (while the report step goes on with history and spend), and at the end only
 * what is new or changed since. The last pass waits for the earlier ones, so the files `run` is told
 * about are complete; an earlier pass that failed is simply done again there. Copying everything
 * after the report cost a one-stage build 50 to 130 ms of `run`'s fixed overhead (issue 12).
 *
 * When the pass started by the report's publication copied everything without a failure, the end
 * lists nothing again (another 10 to 25 ms): the report step writes the build's last objects
 * (report.json, report.txt) before it publishes, and what it writes after (history, spend, the
 * branch's cost) is outside the build's folder. A report published again (a retried report step)
 * starts a pass of its own, which decides anew.
 */
import type { PartialExport } from '../build-files.js';
import type { BuildProgress } from '../build-runner.js';

/** Copies the build's objects (all, or a part); resolves with the folder of its plain files. */
export type ExportFiles = (buildId: string, part?: PartialExport) => Promise<string>;

export class EarlyExport {
  private readonly done = new Map<string, string>();
  private passes: Promise<unknown> = Promise.resolve();
  /** The folder, once a pass over everything after the report's publication succeeded. */
  private completeAfterReport: string | undefined;
  private copiedAfterReport!: (folder: string) => void;
  /**
   * Settles with the folder of the build's plain files when a pass started by the report's
   * publication has copied everything (report.json included); pending until one does.
   */
  readonly reportCopied = new Promise<string>((resolve) => (this.copiedAfterReport = resolve));

  constructor(
    private readonly exportFiles: ExportFiles,
    private readonly removeFiles: (buildId: string) => Promise<void>,
    private readonly buildId: string,
  ) {}

  /** Progress to follow (beside the relay to `run`): each event that makes objects final starts a pass. */
  readonly progress: BuildProgress = {
    planned: () => this.pass(''),
    stageStarted: () => undefined,
    stageLog: () => undefined,
    stageFinished: (result) => this.pass(`stages/${result.stage}/`),
  };

  /** The report is stored and published: a pass over everything (the last pass then finds little new). */
  reportPublished(): void {
    this.completeAfterReport = undefined;
    this.pass('', (folder) => {
      this.completeAfterReport = folder;
      this.copiedAfterReport(folder);
    });
  }

  /** After the build settled: the last pass, over every object. */
  async finish(): Promise<string> {
    await this.passes;
    return this.completeAfterReport ?? this.exportFiles(this.buildId, { done: this.done });
  }

  /** A build that ended without a report: once the passes are over, what they copied is removed. */
  async discard(): Promise<void> {
    await this.passes;
    await this.removeFiles(this.buildId);
  }

  /** One pass at a time, in the order they were asked for. */
  private pass(under: string, succeeded?: (folder: string) => void): void {
    this.passes = this.passes
      .then(() => this.exportFiles(this.buildId, { under, done: this.done }))
      .then(succeeded)
      .catch(() => undefined);
  }
}
