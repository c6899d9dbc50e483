import { describe, expect, it } from 'vitest';
import { parsePipeline } from '../../../functions/domain/pipeline/parse.js';
import { historyIdOf, stageDefinitionHash } from '../../../functions/domain/plan/stage-definition.js';
import { loadStageHistory } from '../../../functions/handlers/stage-history-loader.js';
import { S3HistoryStore } from '../../../functions/adapters/s3-history-store.js';
import { MemoryStore } from '../../statemachine/support/memory-store.js';

const stageOf = (body: string) => parsePipeline(`version: 1\nstages:\n  build:\n${body}`).stages[0]!;
const BASE = '    commands: [make]\n    env: { MODE: fast }\n';

describe('Function: stageDefinitionHash', () => {
  it('changes when commands, image, resources, env names or artifacts change', () => {
    const base = stageDefinitionHash(stageOf(BASE));
    for (const edited of [
      '    commands: [make all]\n    env: { MODE: fast }\n',
      `${BASE}    image: node:22\n`,
      `${BASE}    resources: { memory: 4GiB }\n`,
      '    commands: [make]\n    env: { MODE: fast, CI: "1" }\n',
      `${BASE}    artifacts: [dist/**]\n`,
      `${BASE}    spot: true\n`,
    ]) {
      expect(stageDefinitionHash(stageOf(edited)), edited).not.toBe(base);
    }
  });

  it('stays the same when only an env value, the timeout or needs change', () => {
    const base = stageDefinitionHash(stageOf(BASE));
    expect(stageDefinitionHash(stageOf('    commands: [make]\n    env: { MODE: slow }\n'))).toBe(base);
    expect(stageDefinitionHash(stageOf(`${BASE}    timeout: 20m\n`))).toBe(base);
  });

  it('hashes resources: auto as auto, so the size history picks does not reset that history', () => {
    expect(stageOf(`${BASE}    resources: auto\n`).resourcesAuto).toBe(true);
    expect(stageDefinitionHash(stageOf(`${BASE}    resources: auto\n`))).not.toBe(stageDefinitionHash(stageOf(BASE)));
  });
});

describe('Function: loadStageHistory', () => {
  it('an edited stage starts fresh: the history of its old definition is not used', async () => {
    // Prepare: history recorded under the old definition
    const history = new S3HistoryStore(new MemoryStore());
    const old = stageOf(BASE);
    await history.recordRun('acme/api', historyIdOf(old), { durationMs: 300_000, peakMemoryMiB: 900, peakDiskMiB: 50, escalated: false });

    // Act
    const same = await loadStageHistory(history, 'acme/api', [old]);
    const edited = await loadStageHistory(history, 'acme/api', [stageOf('    commands: [make -j8]\n    env: { MODE: fast }\n')]);

    // Assess
    expect(same.build?.durationsMs).toEqual([300_000]);
    expect(edited).toEqual({});
  });
});
