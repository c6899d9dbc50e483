import { describe, expect, it } from 'vitest';
import { LocalBus } from '../../functions/adapters/local/local-bus.js';
import { BuildStore } from '../../functions/local/build-store.js';
import { LocalFarm } from '../../functions/local/farm.js';
import { createProgressPrinter } from '../../functions/local/progress-printer.js';
import { MemoryArtifactStore } from './support/memory-artifact-store.js';
import { ScriptedRunner } from './support/scripted-runner.js';
import { pushRequest } from './support/test-farm.js';

describe('Function: createProgressPrinter', () => {
  it('prints a build stage by stage, then its result, cost and dashboard link', async () => {
    // Prepare
    let output = '';
    const bus = await LocalBus.open();
    const artifacts = new MemoryArtifactStore();
    const runner = new ScriptedRunner({ artifacts, reports: bus.notifier('BuildReports'), fail: { stage: 'lint' } });
    const printer = createProgressPrinter({ write: (text) => (output += text), dashboardUrl: 'http://127.0.0.1:8080' });
    const farm = new LocalFarm({ store: await BuildStore.open(undefined), runner, artifacts, bus, onEvent: printer });
    // Act
    await farm.start('p1', { buildId: 'p1', request: pushRequest() });
    const record = await farm.settled('p1');
    // Assess
    const lines = output.trimEnd().split('\n');
    expect(lines[0]).toMatch(/build p1 queued \(push by octocat\)$/);
    expect(output).toMatch(/plan: 4 stages in 3 waves/);
    expect(output).toMatch(/wave 1: build \(Lambda 1024 MB\), lint \(Lambda 1024 MB\)/);
    expect(output).toMatch(/✓ build +succeeded/);
    expect(output).toMatch(/✗ lint +failed/);
    expect(output).toMatch(/- package +skipped/);
    expect(output).toContain(`failed · in ${(record.report!.durationMs / 1000).toFixed(1)} s · cost $${record.report!.totalCostUsd.toFixed(6)}`);
    expect(lines.at(-1)).toMatch(/http:\/\/127\.0\.0\.1:8080\/#\/builds\/p1$/);
  });
});
