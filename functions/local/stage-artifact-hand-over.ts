/**
 * `buildfarm run` leaves each stage's artifacts as plain files in `DATA/builds/ID/stages/STAGE/
 * artifacts/` (build-files.ts). Unpacking them there from the stored archive after the build makes
 * every file anew (node_modules: 3,772 inodes, over a second on this machine's ext4). Instead, when
 * a stage has ended and stored its archive, its work folder comes here before it is deleted
 * (retired-work-folders.ts, in the background while the next stages run), and the manifest's entries
 * are MOVED out of the workspace (executors/artifact-move.ts, which checks each against the manifest)
 * into a folder of the farm's work root; the export then renames that folder into place.
 *
 * Only stages whose commands ran in bubblewrap are taken: each command's PID namespace dies with its
 * first process, so when the agent returns no process of the stage is left to change a file after
 * the check (on the host shell one can survive the stage: `sleep 1; echo x > file &`). Anything else
 * (no sandbox, a failed stage, no archive, a mismatch, another file system) leaves the export to
 * unpack the archive, as before. Nothing here ever fails a stage.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArtifactManifest, StageResult } from '../domain/report/types.js';
import type { ArtifactStore } from '../ports/artifact-store.js';
import type { StageSandbox } from '../runner/sandbox.js';
import { moveArtifacts, type ArtifactMoveOutcome } from './executors/artifact-move.js';

/** Called with a stage that returned its result and its (retired) work folder, its processes gone, before the folder is deleted. */
export type StageHandOver = (result: StageResult, workRoot: string) => Promise<void>;

/** The folder of a stage's moved artifacts and the archive they match. */
interface MovedArtifacts {
  directory: string;
  sha256: string;
  entries: number;
}

/** The moved folders' names: `export-PID-N`, found by `buildfarm gc` once PID is gone (garbage-collect.ts). */
export const HAND_OVER_FOLDER = 'export';

/** Counts folders across every hand-over of this process (two builds at once never share one). */
let nextFolder = 0;

export class StageArtifactHandOver {
  private readonly moved = new Map<string, MovedArtifacts>();
  /** Why each stage's artifacts were not moved (for tests and the bench's notes). */
  readonly notMoved = new Map<string, string>();

  /**
   * `workRoot`: the farm's work root (the stages' work folders are under it, so a rename from one to
   * the other stays on one file system). `sandbox`: where the stage commands run.
   */
  constructor(
    private readonly options: { workRoot: string; store: ArtifactStore; sandbox: StageSandbox | undefined },
  ) {}

  /** Moves a finished stage's artifacts out of `workRoot/workspace` when that is safe. */
  readonly handOver: StageHandOver = async (result, workRoot) => {
    const key = `${result.buildId}/${result.stage}`;
    try {
      const outcome = await this.take(result, workRoot);
      if (!outcome.moved) this.notMoved.set(key, outcome.reason);
    } catch (error) {
      this.notMoved.set(key, (error as Error).message);
    }
  };

  private async take(result: StageResult, workRoot: string): Promise<ArtifactMoveOutcome> {
    if (this.options.sandbox?.kind !== 'bubblewrap') return { moved: false, reason: 'the stage ran without the bubblewrap sandbox: a process of it may still run' };
    if (result.status !== 'succeeded' || result.artifactCount === 0) return { moved: false, reason: 'no stored artifacts' };
    const text = await this.options.store.getText(result.manifestKey);
    const manifest = text ? (JSON.parse(text) as ArtifactManifest) : undefined;
    if (!manifest?.archive) return { moved: false, reason: 'no stored archive' };
    const root = join(this.options.workRoot, HAND_OVER_FOLDER);
    await mkdir(root, { recursive: true });
    const directory = join(root, `export-${process.pid}-${nextFolder++}`);
    // The agent's layout (runner/agent.ts): the commands' workspace is `workspace` in the work folder.
    const outcome = await moveArtifacts(join(workRoot, 'workspace'), manifest.artifacts, directory);
    if (!outcome.moved) return outcome;
    const key = `${result.buildId}/${result.stage}`;
    // A stage run again (a retry) replaces what its earlier attempt left.
    const earlier = this.moved.get(key);
    if (earlier) await rm(earlier.directory, { recursive: true, force: true });
    this.moved.set(key, { directory, sha256: manifest.archive.sha256, entries: manifest.artifacts.length });
    this.notMoved.delete(key);
    return outcome;
  }

  /**
   * The folder holding a stage's moved artifacts, when they match the archive now stored for it
   * (`sha256` from its manifest); the caller renames it into place. Taken once.
   */
  takeMoved(buildId: string, stage: string, sha256: string): { directory: string; entries: number } | undefined {
    const key = `${buildId}/${stage}`;
    const moved = this.moved.get(key);
    if (!moved || moved.sha256 !== sha256) return undefined;
    this.moved.delete(key);
    return { directory: moved.directory, entries: moved.entries };
  }

  /** Deletes the moved folders nobody took (a build that failed before its export, a stale attempt). */
  async discard(): Promise<void> {
    const folders = [...this.moved.values()].map((moved) => moved.directory);
    this.moved.clear();
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  }
}
