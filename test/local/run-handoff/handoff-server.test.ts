/**
 * The farm's end of the hand-off, over a real unix socket, with a stand-in farm (the real one runs
 * in test/cli/run-handoff.test.ts): what a client that misbehaves or goes away does to the farm.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_FARM_POLICY } from '../../../functions/domain/plan/farm-policy.js';
import type { BuildRecord } from '../../../functions/local/build-record.js';
import type { BuildProgress } from '../../../functions/local/build-runner.js';
import { MAX_UNREAD_BYTES, startRunHandOff, type HandOffFarm, type RunHandOffServer } from '../../../functions/local/run-handoff/handoff-server.js';
import { farmSettings, type FromFarm } from '../../../functions/local/run-handoff/protocol.js';
import { loadPriceBook, plannerConfig } from '../../../functions/cli/farm-config.js';

const settings = farmSettings(plannerConfig({}, {}), await loadPriceBook({}, {}), DEFAULT_FARM_POLICY, 2, {});
const dirs: string[] = [];
afterAll(async () => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/**
 * A farm whose builds run until the test settles them. As the real one, it stops only a build it
 * has queued; `saving`, while pending, holds startHandedOver where the real farm saves the record.
 */
function standInFarm(saving: Promise<void> = Promise.resolve()) {
  const followers = new Map<string, BuildProgress>();
  const settle = new Map<string, (record: BuildRecord) => void>();
  const stopped: Array<{ id: string; reason: string }> = [];
  const farm: HandOffFarm = {
    async startHandedOver(id, _request, _repository, progress) {
      await saving;
      followers.set(id, progress);
    },
    async stop(id, reason) {
      if (followers.has(id)) stopped.push({ id, reason });
    },
    settled: (id) => new Promise((resolve) => settle.set(id, resolve)),
    busy: () => followers.size,
  };
  return { farm, followers, settle, stopped };
}

interface ServeSpies {
  removed?: string[];
  /** Each export asked for: its folder (`stages/x/`, '' for a pass over everything) or `last`. */
  exported?: string[];
  /** The listeners of published reports, to call as the farm's bus would. */
  published?: Array<(buildId: string) => void>;
  /** A report.json each pass over everything writes into the build's folder, as the real export copies it. */
  reportJson?: (buildId: string) => string;
}

async function serve(farm: HandOffFarm, spies: ServeSpies = {}): Promise<RunHandOffServer> {
  const data = await mkdtemp(join(tmpdir(), 'bf-hs-'));
  dirs.push(data);
  const server = await startRunHandOff({
    dataDirectory: data,
    farm,
    settings,
    sandbox: { text: 'sandbox: test\n', degraded: false },
    dashboard: (id) => `http://dash/${id}`,
    exportFiles: async (id, part) => {
      spies.exported?.push(part?.under ?? 'last');
      const folder = join(data, 'builds', id);
      if (spies.reportJson && part?.under === '') {
        await mkdir(folder, { recursive: true });
        await writeFile(join(folder, 'report.json'), spies.reportJson(id));
      }
      return folder;
    },
    removeFiles: async (id) => void spies.removed?.push(id),
    reportsPublished: (listener) => {
      spies.published?.push(listener);
      return () => spies.published?.splice(spies.published.indexOf(listener), 1);
    },
    closeWaitMs: 100,
  });
  if ('unavailable' in server) throw new Error(server.unavailable);
  return server;
}

function runMessage(buildId: string) {
  return {
    type: 'run',
    settings,
    buildId,
    request: { deliveryId: buildId, event: 'push', repository: 'local/app', cloneUrl: '/r', ref: 'refs/heads/main', branch: 'main', sha: 'a'.repeat(40), fromFork: false, message: 'm', sender: 'local', receivedAt: '2026-12-02T00:00:00Z' },
    repository: { repository: 'local/app', path: '/r' },
  };
}

/** A client that reads nothing until told (as a paused terminal would), then everything. */
function client(path: string): { socket: Socket; lines: () => FromFarm[]; closed: Promise<void> } {
  const socket = connect(path);
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  socket.on('error', () => undefined);
  return { socket, closed, lines: () => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as FromFarm) };
}

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
};

describe('the run hand-off server', () => {
  it('stops the build when its run goes away, and when its run asks', async () => {
    const { farm, followers, stopped } = standInFarm();
    const server = await serve(farm);
    try {
      const first = client(server.path);
      first.socket.write(`${JSON.stringify(runMessage('run-1'))}\n`);
      await until(() => followers.has('run-1'));
      first.socket.destroy();
      await until(() => stopped.length === 1);
      expect(stopped[0]).toEqual({ id: 'run-1', reason: 'buildfarm run went away (its connection to the farm closed)' });

      const second = client(server.path);
      second.socket.write(`${JSON.stringify(runMessage('run-2'))}\n`);
      await until(() => followers.has('run-2'));
      second.socket.write(`${JSON.stringify({ type: 'abort' })}\n`);
      await until(() => stopped.length === 2);
      expect(stopped[1]).toEqual({ id: 'run-2', reason: 'stopped by buildfarm run (Ctrl-C)' });
      second.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('keeps a stop that comes before the farm has queued the build, and makes it once the build is', async () => {
    let saved = () => undefined as void;
    const { farm, followers, stopped } = standInFarm(new Promise<void>((resolve) => (saved = resolve)));
    const server = await serve(farm);
    try {
      // Ctrl-C right after `accepted` (run sends its abort the moment it reads it)...
      const aborting = client(server.path);
      aborting.socket.write(`${JSON.stringify(runMessage('run-early-abort'))}\n`);
      await until(() => aborting.lines().some((l) => l.type === 'accepted'));
      aborting.socket.write(`${JSON.stringify({ type: 'abort' })}\n`);
      // ...and a run that gives up at once (its 5 s for an answer ran out while the farm was stopped).
      const leaving = client(server.path);
      leaving.socket.write(`${JSON.stringify(runMessage('run-gone'))}\n`);
      await until(() => leaving.lines().some((l) => l.type === 'accepted'));
      leaving.socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stopped).toEqual([]);
      saved();
      await until(() => stopped.length === 2);
      expect(followers.size).toBe(2);
      expect([...stopped].sort((a, b) => a.id.localeCompare(b.id))).toEqual([
        { id: 'run-early-abort', reason: 'stopped by buildfarm run (Ctrl-C)' },
        { id: 'run-gone', reason: 'buildfarm run went away (its connection to the farm closed)' },
      ]);
      aborting.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('removes the files it copied of a build that ended without a report, and says how it ended', async () => {
    const { farm, followers, settle } = standInFarm();
    const removed: string[] = [];
    const server = await serve(farm, { removed });
    try {
      const run = client(server.path);
      run.socket.write(`${JSON.stringify(runMessage('run-cancelled'))}\n`);
      await until(() => followers.has('run-cancelled'));
      settle.get('run-cancelled')!({ id: 'run-cancelled', state: 'cancelled', error: { name: 'Cancelled', message: 'stopped by SIGINT' } } as BuildRecord);
      await run.closed;
      expect(removed).toEqual(['run-cancelled']);
      expect(run.lines().at(-1)).toEqual({ type: 'error', error: { name: 'Cancelled', message: 'stopped by SIGINT' } });
    } finally {
      await server.close();
    }
  });

  it('answers run once the published report is copied, before the farm settles the build; run going away then stops nothing', async () => {
    const { farm, followers, settle, stopped } = standInFarm();
    const published: Array<(buildId: string) => void> = [];
    const server = await serve(farm, { published, reportJson: (id) => JSON.stringify({ buildId: id, status: 'failed' }) });
    try {
      const run = client(server.path);
      run.socket.write(`${JSON.stringify(runMessage('run-early'))}\n`);
      await until(() => followers.has('run-early'));
      for (const listener of published) listener('run-early');
      // The report reaches run while the farm has not settled the build (its history and spend go on).
      await until(() => run.lines().some((line) => line.type === 'report'));
      expect(run.lines().at(-1)).toEqual({ type: 'report', report: { buildId: 'run-early', status: 'failed' }, directory: expect.stringContaining('run-early') });
      await run.closed;
      expect(stopped).toEqual([]);
      settle.get('run-early')!({ id: 'run-early', state: 'failed', report: { status: 'failed' } } as BuildRecord);
    } finally {
      await server.close();
    }
  });

  it('waits for the farm when the copied report is not this build\'s', async () => {
    const { farm, followers, settle } = standInFarm();
    const published: Array<(buildId: string) => void> = [];
    const exported: string[] = [];
    const server = await serve(farm, { published, exported, reportJson: () => JSON.stringify({ buildId: 'someone-else', status: 'succeeded' }) });
    try {
      const run = client(server.path);
      run.socket.write(`${JSON.stringify(runMessage('run-odd'))}\n`);
      await until(() => followers.has('run-odd'));
      for (const listener of published) listener('run-odd');
      await until(() => exported.includes(''));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(run.lines().some((line) => line.type === 'report')).toBe(false);
      settle.get('run-odd')!({ id: 'run-odd', state: 'succeeded', report: { buildId: 'run-odd', status: 'succeeded' } } as unknown as BuildRecord);
      await run.closed;
      expect(run.lines().at(-1)).toMatchObject({ type: 'report', report: { buildId: 'run-odd', status: 'succeeded' } });
    } finally {
      await server.close();
    }
  });

  it('copies the build\'s files when its report is published (then needs no last pass), and stops listening once closed', async () => {
    const { farm, followers, settle } = standInFarm();
    const exported: string[] = [];
    const published: Array<(buildId: string) => void> = [];
    const server = await serve(farm, { exported, published });
    try {
      const run = client(server.path);
      run.socket.write(`${JSON.stringify(runMessage('run-published'))}\n`);
      await until(() => followers.has('run-published'));
      expect(published).toHaveLength(1);
      followers.get('run-published')!.stageFinished({ stage: 'test' } as never);
      for (const listener of published) listener('another-build');
      for (const listener of published) listener('run-published');
      settle.get('run-published')!({ id: 'run-published', state: 'succeeded', report: { status: 'succeeded' } } as BuildRecord);
      await run.closed;
      // The publication's pass over everything succeeded: nothing is listed again at the end (early-export.ts).
      expect(exported).toEqual(['stages/test/', '']);
      // A report published after the build settled copies nothing more.
      for (const listener of published) listener('run-published');
      expect(exported).toEqual(['stages/test/', '']);
    } finally {
      await server.close();
    }
    expect(published).toEqual([]);
  });

  it('survives a message nested too deep to compare: that connection ends, the next builds', async () => {
    const { farm, followers } = standInFarm();
    const server = await serve(farm);
    try {
      const deep = client(server.path);
      const depth = 200_000;
      deep.socket.write(`{"type":"run","settings":{"protocol":1,"planner":${'['.repeat(depth)}${']'.repeat(depth)}}}\n`);
      await deep.closed;
      const next = client(server.path);
      next.socket.write(`${JSON.stringify(runMessage('run-after'))}\n`);
      await until(() => followers.has('run-after'));
      next.socket.destroy();
    } finally {
      await server.close();
    }
  });

  it('drops, and says it dropped, a stage\'s output while its run is far behind; the report still arrives', async () => {
    const { farm, followers, settle } = standInFarm();
    const server = await serve(farm);
    try {
      const slow = client(server.path);
      slow.socket.write(`${JSON.stringify(runMessage('run-flood'))}\n`);
      await until(() => followers.has('run-flood'));
      slow.socket.pause();
      const chunk = 'x'.repeat(64 * 1024);
      // Sixty-four times the bound: without it, all of it would wait in the farm's memory.
      for (let i = 0; i < 64 * (MAX_UNREAD_BYTES / chunk.length); i += 1) followers.get('run-flood')!.stageLog('test', chunk);
      followers.get('run-flood')!.stageFinished({ stage: 'test' } as never);
      settle.get('run-flood')!({ id: 'run-flood', state: 'succeeded', report: { status: 'succeeded' } } as BuildRecord);
      slow.socket.resume();
      await slow.closed;
      const lines = slow.lines();
      const shown = lines.filter((l) => l.type === 'stageLog' && !l.chunk.startsWith('[buildfarm')).length * chunk.length;
      expect(shown).toBeLessThanOrEqual(MAX_UNREAD_BYTES + 2 * chunk.length + 1024 * 1024);
      const note = lines.find((l) => l.type === 'stageLog' && l.chunk.startsWith('[buildfarm'));
      expect(note).toMatchObject({ chunk: expect.stringMatching(/^\[buildfarm: \d+ bytes of this stage's output not shown here/) });
      expect(lines.at(-1)).toMatchObject({ type: 'report', report: { status: 'succeeded' } });
    } finally {
      await server.close();
    }
  });

  it('ends a connection that sends what is not a run, and goes on serving others', async () => {
    const { farm, followers } = standInFarm();
    const server = await serve(farm);
    try {
      const garbage = client(server.path);
      garbage.socket.write('this is not json\n');
      await garbage.closed;
      const twice = client(server.path);
      twice.socket.write(`${JSON.stringify(runMessage('run-a'))}\n${JSON.stringify(runMessage('run-b'))}\n`);
      await twice.closed;
      expect([...followers.keys()]).toEqual(['run-a']);
      const refused = client(server.path);
      refused.socket.write(`${JSON.stringify({ ...runMessage('run-c'), settings: { ...settings, maxStageConcurrency: 9 } })}\n`);
      await refused.closed;
      expect(refused.lines()).toEqual([{ type: 'refused', reason: 'buildfarm serve was started with other settings: --stage-concurrency (flags or their environment variables)' }]);
    } finally {
      await server.close();
    }
  });
});
