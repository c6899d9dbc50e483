/**
 * A local stage's work folder (its workspace, HOME and TMPDIR), once the stage has ended: renamed
 * out of the way at once, then, in the background, its artifacts handed over to `buildfarm run`'s
 * export (stage-artifact-hand-over.ts) and the folder deleted.
 *
 * Deleting was the largest part of the time between stages: each stage's workspace holds what it
 * unpacked (node_modules: 3,772 files in lint, test and pack) and its HOME the restored npm cache,
 * and the executor deleted them before the state machine could start the next stage (0.8 to 1.9 s
 * a stage at load 12, docs/performance.md). A rename takes microseconds. The deletion waits for
 * the build's end (`idle()`, which run-local-build.ts awaits): deleting while the next stages
 * unpack made their file creation several times slower on an ext4 without a journal, which skips
 * recently freed inodes by reading their table blocks (Linux fs/ext4/ialloc.c,
 * recently_deleted()); measured on the express bench, warm, 19.8 -> 16.0 s.
 *
 * At the build's end the deletion is started, not waited for: an `rm -rf` in a session of its
 * own, which finishes even when the farm's process has exited (`buildfarm run` in its own
 * process exits as soon as the build's files are out). Waiting for it was most of the express
 * build's end: 0.9 s to unlink pack's node_modules on this VM, where `rm -rf` of 3,772 files
 * takes 1.2 s of wall time and 0.16 s of CPU. It is the farm's own scratch, named by the farm:
 * no stage's process is left (each command's PID namespace ended with it), and nothing the
 * stage wrote can steer it. `buildfarm gc`, and `serve` at its start, remove the folders of a
 * process that died meanwhile, or of an `rm` that did not finish (garbage-collect.ts).
 *
 * Nothing is shared between stages by this: the retired folder is no stage's, and the next stage
 * still gets a fresh work folder of its own. Only the farm's process touches it after the stage.
 */
import { spawn } from 'node:child_process';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StageResult } from '../domain/report/types.js';
import type { StageArtifactHandOver } from './stage-artifact-hand-over.js';

/** How an executor gives a finished stage's work folder away (`result`: the stage returned one). */
export type RetireWorkFolder = (folder: string, result?: StageResult) => Promise<void>;

/** Where retired folders wait for deletion, under the farm's work root: `retired/retired-PID-N`. */
export const RETIRED_FOLDER = 'retired';

/** Counts retired folders across every build of this process (two builds never share a name). */
let nextRetired = 0;

export class RetiredWorkFolders {
  private readonly pending = new Set<Promise<void>>();
  /** Retired folders handed over and waiting to be deleted, all at once, when the build asks (idle). */
  private readonly toDelete: string[] = [];
  /** Set once idle() has run: a folder retired later (a stopped build's stage ending after it) is deleted at once, not left behind. */
  private drained = false;

  /** `workRoot`: the farm's work root, on the file system of every stage's work folder. */
  constructor(
    private readonly workRoot: string,
    private readonly handOver?: StageArtifactHandOver,
  ) {}

  /**
   * Takes a finished stage's work folder: renames it away (the caller may reuse or drop the path
   * at once), then hands over its artifacts when `result` is given, in the background; it is
   * deleted at `idle()`. When the rename fails both happen in place, before this returns.
   */
  readonly retire: RetireWorkFolder = async (folder, result) => {
    const retired = join(this.workRoot, RETIRED_FOLDER, `retired-${process.pid}-${nextRetired++}`);
    const moved = await mkdir(join(this.workRoot, RETIRED_FOLDER), { recursive: true })
      .then(() => rename(folder, retired))
      .then(() => true, () => false);
    const work = this.cleanUp(moved ? retired : folder, result, moved);
    if (!moved) return work;
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  };

  /** Resolves once every folder retired so far is handed over and its deletion started (all in one `rm`). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.all([...this.pending]);
    this.drained = true;
    const folders = this.toDelete.splice(0);
    if (folders.length > 0) await startDeleting(folders);
  }

  private async cleanUp(folder: string, result: StageResult | undefined, deferDeletion: boolean): Promise<void> {
    try {
      if (result && this.handOver) await this.handOver.handOver(result, folder);
    } finally {
      if (deferDeletion && !this.drained) this.toDelete.push(folder);
      // Renamed away: no one else uses the path, so the deletion may finish later. In place (the
      // rename failed), the path may be reused as soon as this returns: deleted before it does.
      else if (deferDeletion) await startDeleting([folder]);
      else await deleteNow(folder);
    }
  }
}

/**
 * Deletes in a process of its own (`rm -rf`): fs.rm in this process would queue one call per file
 * on libuv's thread pool (four threads for the whole process), and the farm's own I/O for the stages
 * still running (uploads, the embedded S3's writes, the next stage's unpacking) would wait behind
 * thousands of unlinks. Detached and unreferenced: resolved once `rm` has started, it goes on
 * after this process has exited. Where `rm` cannot start, fs.rm does it here, awaited.
 */
function startDeleting(folders: string[]): Promise<void> {
  return new Promise((resolve) => {
    const removing = spawn('rm', ['-rf', '--', ...folders], { detached: true, stdio: 'ignore' });
    removing.once('spawn', () => {
      removing.unref();
      resolve();
    });
    removing.once('error', () => void Promise.all(folders.map(deleteNow)).then(() => resolve()));
  });
}

function deleteNow(folder: string): Promise<void> {
  return rm(folder, { recursive: true, force: true }).catch(() => undefined);
}
