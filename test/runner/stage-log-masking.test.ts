/**
 * The stage log masks the sequence it shows (stdout and stderr merged in arrival order,
 * the agent's lines between them), not each stream alone: whatever the interleaving, the
 * file and the live output never hold a secret.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StageLog } from '../../functions/runner/stage-log.js';
import { CapturedOutput } from '../support/stages.js';

const SECRET = 'hunter2-very-secret';

describe('Class: StageLog, masking the merged output', () => {
  let dir: string;
  let logs = 0;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stage-log-mask-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function logOf(writes: Array<(log: StageLog) => void>): Promise<string[]> {
    logs += 1;
    const path = join(dir, `log-${logs}.txt`);
    const output = new CapturedOutput();
    const log = new StageLog(path, output, [SECRET]);
    for (const write of writes) write(log);
    await log.close();
    return [readFileSync(path, 'utf8'), output.text];
  }

  it('never shows a secret, however its bytes are cut into writes (chunks of either stream, as they arrive)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), fc.array(fc.nat(40), { maxLength: 8 }), async (before, after, cuts) => {
        const bytes = Buffer.from(`${before}${SECRET}${after}`);
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1))), bytes.length].sort((a, b) => a - b);
        let from = 0;
        const writes = points.map((point) => {
          const chunk = bytes.subarray(from, point);
          from = point;
          return (log: StageLog) => log.write(chunk);
        });
        for (const text of await logOf(writes)) expect(text).not.toContain(SECRET);
      }),
      { numRuns: 200 },
    );
  });

  it("masks a secret completed by the agent's own text after a held-back first half", async () => {
    // Act
    const texts = await logOf([(log) => log.write(Buffer.from('x hunter2-')), (log) => log.raw('very-secret y\n')]);
    // Assess
    for (const text of texts) expect(text).toBe('x *** y\n');
  });

  it('writes a first half held back at the end of the output when the log closes', async () => {
    // Act
    const texts = await logOf([(log) => log.write(Buffer.from('tail hunter2-'))]);
    // Assess: nothing printed is lost
    for (const text of texts) expect(text).toBe('tail hunter2-');
  });
});
