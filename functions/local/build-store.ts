/**
 * Builds on disk: one JSON file per build under `.buildfarm/builds/`, written
 * to a temporary file and renamed, so a crash never leaves half a record.
 * A build found queued or running when the farm starts again was cut off by
 * the previous run stopping: it is marked `interrupted`.
 */
import { mkdir, readdir, readFile, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isFinal, type BuildRecord } from './build-record.js';

export class BuildStore {
  private readonly records = new Map<string, BuildRecord>();
  /** Builds this open found cut off and marked interrupted. */
  readonly interruptedAtOpen: string[] = [];
  /** Records this open could not rewrite (a full disk): they stay marked in memory, and the next save tries again. */
  readonly unsavedAtOpen: Array<{ id: string; error: string }> = [];
  /** Saves of one build happen in order; the last one wins on disk as in memory. */
  private readonly saving = new Map<string, Promise<void>>();

  private constructor(private readonly directory: string | undefined) {}

  /** Loads every build kept in `directory` (none when undefined: memory only). */
  static async open(directory: string | undefined, now: () => Date = () => new Date()): Promise<BuildStore> {
    const store = new BuildStore(directory);
    if (directory === undefined) return store;
    await mkdir(directory, { recursive: true });
    for (const name of await readdir(directory)) {
      // A temporary file is a save that never finished (a crash, a full disk): the record before it stands.
      if (name.endsWith('.tmp')) {
        await unlink(join(directory, name)).catch(() => undefined);
        continue;
      }
      if (!name.endsWith('.json')) continue;
      let record: BuildRecord;
      try {
        record = JSON.parse(await readFile(join(directory, name), 'utf8')) as BuildRecord;
      } catch {
        continue;
      }
      store.records.set(record.id, record);
      if (!isFinal(record.state)) {
        record.state = 'interrupted';
        store.interruptedAtOpen.push(record.id);
        record.finishedAt ??= now().toISOString();
        record.error ??= { name: 'Interrupted', message: 'the farm stopped while this build ran' };
        for (const stage of record.stages) if (stage.status === 'running' || stage.status === 'pending') stage.status = 'cancelled';
        // A restart must work on a full disk: the mark is kept in memory and written by the next save.
        await store.save(record).catch((error: unknown) => store.unsavedAtOpen.push({ id: record.id, error: (error as Error).message }));
      }
    }
    return store;
  }

  has(id: string): boolean {
    return this.records.has(id);
  }

  get(id: string): BuildRecord | undefined {
    return this.records.get(id);
  }

  /** Newest first. */
  all(): BuildRecord[] {
    return [...this.records.values()].sort((a, b) => b.queuedAt.localeCompare(a.queuedAt) || b.id.localeCompare(a.id));
  }

  /** Keeps `record` (in memory at once, on disk in order). */
  save(record: BuildRecord): Promise<void> {
    this.records.set(record.id, record);
    if (this.directory === undefined) return Promise.resolve();
    const file = join(this.directory, `${record.id}.json`);
    const text = JSON.stringify(record, null, 2);
    const previous = this.saving.get(record.id) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(async () => {
      const temporary = `${file}.${process.pid}.tmp`;
      try {
        await writeFile(temporary, text, 'utf8');
        await rename(temporary, file);
      } catch (error) {
        await unlink(temporary).catch(() => undefined);
        throw error;
      }
    });
    this.saving.set(record.id, next);
    return next;
  }

  /** Forgets a build and deletes its record and its plain files (retention: `buildfarm gc`; see build-files.ts). */
  async remove(id: string): Promise<void> {
    await this.saving.get(id)?.catch(() => undefined);
    this.records.delete(id);
    this.saving.delete(id);
    if (this.directory !== undefined) {
      await unlink(join(this.directory, `${id}.json`)).catch(() => undefined);
      await rm(join(this.directory, id), { recursive: true, force: true });
    }
  }

  /** Waits for every pending save. */
  async flush(): Promise<void> {
    await Promise.allSettled([...this.saving.values()]);
  }
}
