import { describe, expect, it } from 'vitest';
import { reportKey } from '../../functions/domain/report/record-keys.js';
import type { BuildReport, StageReport } from '../../functions/domain/report/types.js';
import { runBuildLocally } from '../../functions/local/state-machine-runner.js';
import { BUILD_ID, createFarm, REQUEST, type Farm, type ScenarioStage } from './support/farm.js';

async function run(farm: Farm) {
  const result = await runBuildLocally({ buildId: BUILD_ID, request: REQUEST }, farm.bindings);
  const report = farm.store.json<BuildReport>(reportKey(BUILD_ID));
  if (!report) throw new Error('no report.json was written');
  const stage = (name: string): StageReport => {
    const found = report.stages.find((s) => s.name === name);
    if (!found) throw new Error(`no stage ${name} in the report`);
    return found;
  };
  return { result, report, stage };
}

describe('State machine: build.asl.json through aws-local-stepfunctions', () => {
  it('all on Lambda: runs every stage on the Lambda runner and reports success', async () => {
    // Prepare
    const stages: Record<string, ScenarioStage> = {
      compile: { runner: 'lambda', lambda: { kind: 'succeed', durationMs: 1234.4 } },
      lint: { runner: 'lambda' },
      test: { runner: 'lambda', needs: ['compile'] },
    };
    const farm = createFarm(stages);

    // Act
    const { result, report, stage } = await run(farm);

    // Assess
    expect(result.output).toEqual({ status: 'succeeded', totalCostUsd: report.totalCostUsd, reportKey: reportKey(BUILD_ID) });
    expect(farm.lambdaCalls.sort()).toEqual(['compile', 'lint', 'test']);
    expect(farm.fargateCalls).toEqual([]);
    expect(report.stages.map((s) => [s.name, s.status, s.runner])).toEqual([
      ['compile', 'succeeded', 'lambda'],
      ['lint', 'succeeded', 'lambda'],
      ['test', 'succeeded', 'lambda'],
    ]);
    expect(stage('compile').billedDurationMs).toBe(1235);
    expect(report.costBreakdown.stateTransitions).toBe(result.stateTransitions);
    expect(farm.notifier.messages).toHaveLength(1);
    expect(farm.notifier.messages[0]!.attributes).toEqual({ repository: 'octo/app', branch: 'main', status: 'succeeded', costUsd: report.totalCostUsd });
  });
});
