/**
 * bench/express.ts keeps working: the whole section (a project as a git repository, by hand
 * cold and warm, `buildfarm run` cold and warm, in its own process and handed to a running
 * `buildfarm serve`, the breakdown) on its `quick` project, which
 * has no dependencies, so nothing here touches the network. The full section installs about
 * 250 packages from the npm registry (a minute or more, and it fails when the registry does):
 * that runs only in `npm run bench`, never in `npm test`.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { benchExpress, registryProblem } from '../../bench/express.js';
import { criticalPathMs } from '../../bench/lib/farm-breakdown.js';
import { parsePipeline } from '../../functions/domain/pipeline/parse.js';
import { expressPipeline } from '../../bench/lib/express-fixture.js';

describe('Module: bench/express.ts', () => {
  it('measures by hand and through the farm, cold and warm, and breaks the farm\'s time down (quick project, offline)', { timeout: 300_000 }, async () => {
    // Act
    const result = await benchExpress({ quick: true, bundle: false });

    // Assess
    const names = result.figures.map((figure) => figure.name);
    expect(names.slice(0, 5)).toEqual([
      'by hand, cold npm cache',
      'by hand, warm npm cache',
      'buildfarm run, cold (cache miss)',
      'buildfarm run, warm (cache hit)',
      'buildfarm run handed to a running serve, warm',
    ]);
    expect(names).toContain('farm warm: sandbox start');
    expect(names).toContain('farm warm: cache restore');
    for (const figure of result.figures.slice(0, 5)) expect(figure.value).toBeGreaterThan(0);
    // The handed-over build ran on the farm started for it: its report is a build of its own, and a hit too.
    const handed = result.details.farmHanded as { stages: Array<{ name: string; cache?: { result: string } }> };
    expect(handed.stages.find((stage) => stage.name === 'install')!.cache?.result).toBe('hit');
    const warm = (result.details.farmWarm as { stages: Array<{ name: string; phases: Record<string, number>; cache?: { result: string } }> }).stages;
    expect(warm.map((stage) => stage.name).sort()).toEqual(['install', 'lint', 'pack', 'test']);
    for (const stage of warm) expect(stage.phases.commandsMs).toBeGreaterThan(0);
    expect(warm.find((stage) => stage.name === 'install')!.cache?.result).toBe('hit');
    expect(warm.find((stage) => stage.name === 'lint')!.phases.artifactsInMs).toBeGreaterThanOrEqual(0);
  });

  it('skips, saying why, when the registry cannot be reached', async () => {
    // Prepare: a port that refuses connections
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));

    // Act
    const result = await benchExpress({ registry: `http://127.0.0.1:${port}/`, bundle: false });

    // Assess
    expect(result.figures).toEqual([]);
    expect(result.notes?.[0]).toMatch(new RegExp(`^express skipped: .*http://127\\.0\\.0\\.1:${port}/express is unreachable`));
    expect(await registryProblem(`http://127.0.0.1:${port}`)).toContain('is unreachable');
  });

  it('writes a pipeline the parser accepts, with the cache on install and node_modules as its artifacts', () => {
    const pipeline = parsePipeline(expressPipeline({ NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' }));
    const install = pipeline.stages.find((stage) => stage.name === 'install')!;
    expect(install.cache).toEqual({ paths: ['~/.npm'], keyFiles: ['package-lock.json'], prefix: 'npm' });
    expect(install.artifacts).toEqual(['node_modules']);
    expect(pipeline.stages.find((stage) => stage.name === 'pack')!.needs).toEqual(['lint', 'test']);
    expect(install.env).toEqual({ NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' });
  });
});

describe('Function: criticalPathMs', () => {
  it('is the longest chain of stages that ran one after another', () => {
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
    const stages = [
      { durationMs: 2000, startedAt: at(0), finishedAt: at(2) },
      { durationMs: 5000, startedAt: at(3), finishedAt: at(8) },
      { durationMs: 1000, startedAt: at(3), finishedAt: at(4) },
      { durationMs: 1000, startedAt: at(9), finishedAt: at(10) },
    ];
    expect(criticalPathMs(stages)).toBe(8000);
  });
});
